"""The command-line client end to end: a live test server, a platform worker and a real runner
on RabbitMQ and Docker; `footprint` submits a local image by name, watches its run finish,
fetches the results as a table, JSON and CSV, reads the leaderboard, and reproduces the
result on this machine's Docker with the runner's own code: the figures agree within the
result's own noise (its speed-up interval)."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from api.services import api_token_create
from footprint.client import Client
from submissions.models import Submission
from tests.fixtures.leftovers import subprocess_env
from tests.integration import test_platform_and_runner as loop
from tests.integration.test_platform_and_runner import IDENTITY

pytestmark = [pytest.mark.docker, pytest.mark.services, pytest.mark.django_db(transaction=True)]

COMMAND = str(Path(sys.executable).parent / "footprint")
# The whole loop's fixtures: a deployment's processes on a broker, on the test database.
database_url, deployment, processes = loop.database_url, loop.deployment, loop.processes
rabbitmq_url, use_broker = loop.rabbitmq_url, loop.use_broker


def footprint(env: dict[str, str], *args: str, timeout_s: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COMMAND, *args], env=env, capture_output=True, text=True, timeout=timeout_s)


def test_the_command_submits_watches_fetches_and_reproduces(
    rabbitmq_url, use_broker, deployment, live_server, settings, tmp_path: Path, build_test_image, docker_client
):
    settings.ALLOWED_HOSTS = ["*"]
    site = deployment(rabbitmq_url, use_broker(rabbitmq_url), "cli")
    # The demo's kind of data: public, so that `reproduce` may download its test split.
    site.benchmark.data_public = True
    # Enough queries and fresh servers for the result to say how noisy it is (its speed-up
    # interval, the p50's variation over the repeats): the comparison below rests on that.
    site.benchmark.min_queries, site.benchmark.serve_repeats = 512, 3
    site.benchmark.save(update_fields=["data_public", "min_queries", "serve_repeats"])
    tag = build_test_image("COPY compress /usr/local/bin/compress\n", {"compress": IDENTITY})
    env = subprocess_env(
        FOOTPRINT_CONFIG_DIR=str(tmp_path / "config"),
        FOOTPRINT_CGROUP_ROOT=f"footprint-it-{uuid.uuid4().hex[:8]}",
        PYTHONUNBUFFERED="1",
        # rich fits tables to the terminal; this one is wide enough for every column.
        COLUMNS="250",
    )

    key = api_token_create(user=site.owner, name="cli test").key
    logged = footprint(env, "login", "--url", live_server.url, "--token", key)
    assert logged.returncode == 0, logged.stderr
    assert "as ada" in logged.stdout
    assert oct((tmp_path / "config" / "config.json").stat().st_mode & 0o777) == "0o600"

    # An image name: the command saves it with the Docker SDK, uploads it in pieces, prints the run.
    submitted = footprint(env, "submit", tag, "--benchmark", site.benchmark.slug, "--name", "identity via cli")
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    run_id = int(re.search(r"run (\d+) on " + re.escape(site.hardware.name), submitted.stdout)[1])
    assert f"{live_server.url}/runs/{run_id}/" in submitted.stdout
    submission = Submission.objects.get(runs__pk=run_id)
    assert submission.image_id == docker_client.images.get(tag).id

    watched = footprint(env, "status", str(run_id), "--watch", "--interval", "2")
    assert watched.returncode == 0, watched.stdout + watched.stderr + site.runner.log_path.read_text()[-3000:]
    assert "succeeded" in watched.stdout
    logs = footprint(env, "logs", str(run_id))
    assert logs.returncode == 0 and "compress" in logs.stdout

    # The results in the three formats agree.
    filters = ("--benchmark", site.benchmark.slug, "--hardware-class", site.hardware.name)
    as_json = footprint(env, "results", *filters, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    [result] = json.loads(as_json.stdout)
    speedup = next(f for f in result["figures"] if (f["subject"], f["name"]) == ("submission", "speedup"))
    assert speedup["unit"] == "ratio" and speedup["label"] == "measured"
    as_csv = footprint(env, "results", *filters, "--format", "csv")
    lines = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert {int(line["result_id"]) for line in lines} == {result["id"]}
    assert len(lines) == len(result["figures"])
    as_table = footprint(env, "results", *filters, "--format", "table")
    assert as_table.returncode == 0 and "identity via cli" in as_table.stdout

    # Published, it is on the leaderboard, ranked.
    with Client(live_server.url, key) as client:
        client.post(f"submissions/{submission.pk}/publish/")
    board = footprint(env, "leaderboard", site.benchmark.slug, site.hardware.name)
    assert board.returncode == 0 and "identity via cli" in board.stdout and "ranked" in board.stdout

    # Reproduced here: same image (already in the engine), same job spec, same runner code.
    reproduced = footprint(env, "reproduce", str(result["id"]), "--json", timeout_s=900)
    assert reproduced.returncode == 0, reproduced.stdout[-3000:] + reproduced.stderr[-3000:]
    comparison = {
        (row["subject"], row["name"]): row for row in json.loads(reproduced.stdout.splitlines()[-1])["figures"]
    }
    for subject in ("submission", "reference"):
        accuracy = comparison[(subject, "accuracy")]
        assert accuracy["local"] == accuracy["published"]  # the same model on the same test split
    published = {(f["subject"], f["name"]): f["value"] for f in result["figures"]}
    speedup = published[("submission", "speedup")]
    low, high = published[("submission", "speedup_ci_low")], published[("submission", "speedup_ci_high")]
    local_speedup = comparison[("submission", "speedup")]["local"]
    # The result's own noise: its speed-up interval, and the variation of the p50s over its
    # fresh servers (a speed-up is a ratio of two of them), whichever is wider, twice over.
    cv = (published[("reference", "latency_p50_cv")] ** 2 + published[("submission", "latency_p50_cv")] ** 2) ** 0.5
    noise = max((high - low) / 2 / speedup, cv)
    rows = "\n".join(f"{k}: {v}" for k, v in comparison.items())
    assert abs(local_speedup / speedup - 1) <= 2 * noise, f"{local_speedup} vs {speedup}, noise {noise}\n{rows}"
    print(f"speed-up published {speedup:.4f} [{low:.4f}, {high:.4f}], p50 CV {cv:.4f}; here {local_speedup:.4f}")
