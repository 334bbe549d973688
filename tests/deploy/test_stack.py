"""The self-hosted deployment, for real: docker/compose.yaml on a Docker engine, from images
built offline by docker/build-images.sh (`make test-deploy`; .ci/run runs it after make test).

In order, on one stack: it comes up and serves; the operator's account from the environment;
`check --deploy`; an upload through the web form measured by the host's runner and shown on
the leaderboard; a restart that keeps everything; a second runner in a container of its own
with no access to the storage volume, on the same queue, and several runs shared by the two
without a duplicate; that runner's credential revoked, after which it can neither fetch nor
report; metrics; a backup, a wipe of every volume, a restore, and the leaderboard again.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import uuid
from pathlib import Path

import docker
import pytest

from tests.deploy.stack import REPO, Stack, run

# The stack fixture builds every image (minutes on a cold engine) before the first test.
pytestmark = [pytest.mark.deploy, pytest.mark.timeout(3600)]

RUN_TIMEOUT_S = 900
SCALE_RUNS = 4
IDENTITY = """#!/usr/bin/env python3
import shutil, footprint_sdk
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
footprint_sdk.write_method("identity", description="the reference, unchanged")
"""
# Fewer queries than digits' defaults: the stack is what is tested here, not the protocol.
FAST_BENCHMARK = "min_queries=64, warmup_s=0.1, serve_repeats=1, accuracy_floor_fraction=0.5"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def state() -> dict:
    """What one step of the module hands the next (the steps run in order, on one stack)."""
    return {}


@pytest.fixture(scope="module")
def stack(docker_client: docker.DockerClient, base_image: str, state: dict):
    folder = Path(f"/tmp/fpd-{uuid.uuid4().hex[:8]}")  # short: the engine bind-mounts below it
    folder.mkdir()
    tag = f"test-{uuid.uuid4().hex[:8]}"
    runtime_image = f"footprint-test/deploy-runtime:{tag}"
    site = Stack.create(folder, port=free_port(), image_tag=tag, runtime_image_id="", base_image=base_image)
    build_env = {
        **site.environ,
        "FOOTPRINT_BASE_IMAGE": base_image,
        "FOOTPRINT_IMAGE_TAG": tag,
        "FOOTPRINT_POSTGRES_TAG": tag,
        "FOOTPRINT_RABBITMQ_TAG": tag,
        "FOOTPRINT_RUNTIME_TAG": runtime_image,
        "PYTHON": str(REPO / ".venv" / "bin" / "python"),
    }
    images = [f"footprint/{name}:{tag}" for name in ("platform", "runner", "postgres", "rabbitmq")] + [runtime_image]
    try:
        started = time.monotonic()
        run(["bash", str(REPO / "docker" / "build-images.sh"), str(site.env_file)], env=build_env, timeout=3600)
        state["build_s"] = round(time.monotonic() - started, 1)
        started = time.monotonic()
        run(["bash", str(REPO / "docker" / "build-images.sh"), str(site.env_file)], env=build_env, timeout=3600)
        state["build_cached_s"] = round(time.monotonic() - started, 1)
        # The script pinned the runtime by id in the env file, as an operator's would be.
        runtime_id = docker_client.images.get(runtime_image).id
        assert f"FOOTPRINT_RUNTIME_IMAGE={runtime_id}\n" in site.env_file.read_text()
        site.settings["FOOTPRINT_RUNTIME_IMAGE"] = runtime_id
        state["runtime_image"] = runtime_image
        yield site
    finally:
        for container in state.get("extra_containers", []):
            subprocess.run(["docker", "rm", "-f", "-v", container], env=site.environ, capture_output=True)
        site.down()
        # The runners' sandbox containers are removed by the runners; anything a killed one
        # left is removed here with its cgroup root.
        for container in docker_client.containers.list(all=True, filters={"label": "org.footprint.hardware-class"}):
            if container.labels.get("org.footprint.hardware-class") == "cpu-local":
                container.remove(force=True, v=True)
        for image in images:
            try:
                docker_client.images.remove(image, force=True)
            except docker.errors.ImageNotFound:
                pass
        root = site.settings["FOOTPRINT_CGROUP_ROOT"]
        for hierarchy in Path("/sys/fs/cgroup").iterdir():
            for top in [hierarchy / root, *hierarchy.glob(f"{root}-*")]:  # the second runner's too
                for path in sorted(top.glob("**/"), key=lambda p: len(p.parts), reverse=True):
                    try:
                        path.rmdir()
                    except OSError:
                        pass
        subprocess.run(["rm", "-rf", str(folder)], check=False)


@pytest.fixture(scope="module")
def tarball(stack: Stack, build_test_image, docker_client: docker.DockerClient, state: dict) -> Path:
    """An example submission (the reference, unchanged), saved as a researcher uploads it."""
    tag = build_test_image(
        "COPY compress /usr/local/bin/compress\n", {"compress": IDENTITY}, base=state["runtime_image"]
    )
    path = stack.work_dir.parent / "identity.tar"
    with open(path, "wb") as f:
        for chunk in docker_client.images.get(tag).save(named=True):
            f.write(chunk)
    return path


def wait_for_runs(stack: Stack, run_ids: list[int], timeout_s: float = RUN_TIMEOUT_S) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    query = (
        "import json; from submissions.models import Run; "
        f"print(json.dumps([dict(id=r.pk, state=r.state, runner=r.runner_host, attempt=r.attempt, "
        f"reason=r.failure_reason, tokens=r.tokens.count(), results=int(hasattr(r, 'result'))) "
        f"for r in Run.objects.filter(pk__in={run_ids!r}).order_by('pk')]))"
    )
    while True:
        runs = stack.shell(query)
        if all(r["state"] in ("succeeded", "failed", "cancelled") for r in runs) or time.monotonic() > deadline:
            return runs
        time.sleep(3)


def submit_again(stack: Stack, count: int) -> list[int]:
    """`count` more submissions of the uploaded tarball, through the service the upload form calls."""
    return stack.shell(
        "import json; from django.contrib.auth import get_user_model; "
        "from submissions.models import Submission; from submissions.services import submission_create; "
        "first = Submission.objects.order_by('pk').first(); ids = []\n"
        f"for n in range({count}):\n"
        "    s = submission_create(owner=first.owner, benchmark=first.benchmark, name=f'identity again {n}', "
        "description='', division='standard', tarball_path=first.tarball_path, tarball_sha256=first.tarball_sha256, "
        "size_bytes=first.tarball_size_bytes, image_id=first.image_id, published=True)\n"
        "    ids.append(s.runs.get().pk)\n"
        "print(json.dumps(ids))"
    )


def test_the_stack_comes_up_serves_the_site_and_passes_the_deploy_checks(stack: Stack, state: dict):
    started = time.monotonic()
    stack.up()
    state["up_to_served_s"] = round(stack.wait_until_served() + (time.monotonic() - started), 1)
    check = stack.compose(
        "exec", "-T", "web", "python3", "manage.py", "check", "--deploy", "--fail-level", "WARNING", check=False
    )
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
    # The first administrator came from the environment.
    admin = stack.browser()
    admin.log_in(stack.settings["FOOTPRINT_ADMIN_USERNAME"], stack.settings["FOOTPRINT_ADMIN_PASSWORD"])
    assert admin.get("/admin/").status == 200
    assert admin.cookies and "sessionid" in admin.cookies
    # Static files by WhiteNoise, under gunicorn.
    assert admin.get("/static/admin/css/base.css").status == 200
    # Plain HTTP is sent to HTTPS (the proxy's header is missing); the health check is not.
    assert stack.browser().request("GET", "/", headers={"X-Forwarded-Proto": "http"}).status == 301
    print(
        f"\ndeploy: images built in {state['build_s']} s, again (cached) in {state['build_cached_s']} s; "
        f"`docker-compose up -d` to a served site in {state['up_to_served_s']} s"
    )


def test_an_upload_through_the_web_form_is_measured_and_reaches_the_leaderboard(stack: Stack, tarball: Path, state):
    stack.manage("seed_demo")
    stack.shell(
        "from benchmarks.models import Benchmark; "
        f"Benchmark.objects.filter(slug='digits').update({FAST_BENCHMARK}); print(1)"
    )
    browser = stack.browser()
    browser.log_in(stack.settings["FOOTPRINT_ADMIN_USERNAME"], stack.settings["FOOTPRINT_ADMIN_PASSWORD"])
    token = browser.csrf_token("/submissions/new/")
    answer = browser.upload(
        "/submissions/new/",
        {
            "csrfmiddlewaretoken": token,
            "name": "identity",
            "benchmark": "digits",  # the form names benchmarks by slug
            "division": "standard",
            "description": "the reference, unchanged",
        },
        "tarball",
        tarball,
    )
    errors = re.findall(r'<ul class="errorlist[^>]*>.*?</ul>', answer.text, re.DOTALL)
    assert answer.status == 302, errors or answer.text
    [run_id] = stack.shell(
        "import json; from submissions.models import Run; "
        "print(json.dumps(list(Run.objects.values_list('pk', flat=True))))"
    )
    submission = stack.shell(f"from submissions.models import Run; print(Run.objects.get(pk={run_id}).submission_id)")
    assert (
        browser.post_form(
            f"/submissions/{submission}/publish/",
            {"csrfmiddlewaretoken": browser.csrf_token(f"/submissions/{submission}/"), "published": "on"},
        ).status
        == 302
    )
    [outcome] = wait_for_runs(stack, [run_id])
    assert outcome["state"] == "succeeded", outcome
    assert outcome["runner"] == "local-cpu-local" and outcome["tokens"] == 1
    board = stack.browser().get("/benchmarks/digits/cpu-local/")
    assert board.status == 200 and 'class="method">' in board.text and "identity" in board.text
    state["board_methods"] = board.text.count('class="method">')


def test_a_restart_of_the_stack_keeps_every_row_file_and_account(stack: Stack, state: dict):
    stack.compose("restart", "-t", "20", timeout=600)
    stack.wait_until_served()
    board = stack.browser().get("/benchmarks/digits/cpu-local/")
    assert board.text.count('class="method">') == state["board_methods"]
    browser = stack.browser()
    browser.log_in(stack.settings["FOOTPRINT_ADMIN_USERNAME"], stack.settings["FOOTPRINT_ADMIN_PASSWORD"])
    # The runner of this host kept its credential across the restart (the web service rewrote nothing).
    assert "keeps its credential" in stack.compose("logs", "web").stdout.decode()


def start_second_runner(stack: Stack, state: dict, name: str) -> tuple[str, str]:
    """A runner as a host elsewhere starts one (docs/operator.md): its own container on the
    deployment's network, the broker's URL, the platform's URL, a credential; no storage volume."""
    secret = stack.manage("runner_credential", "create", name, "--hardware-class", "cpu-local", "--secret-only").strip()
    work = stack.work_dir.parent / f"{name}-work"
    work.mkdir()
    container = f"{stack.project}-{name}"
    s = stack.settings
    run(
        [
            "docker", "run", "-d", "--name", container, "--network", f"{stack.project}_footprint",
            "--restart", "unless-stopped",
            "-e", f"CELERY_BROKER_URL=amqp://{s['RABBITMQ_DEFAULT_USER']}:{s['RABBITMQ_DEFAULT_PASS']}@rabbitmq:5672//",
            "-e", "FOOTPRINT_PLATFORM_URL=http://web:8000",
            "-e", "FOOTPRINT_HARDWARE_CLASS=cpu-local",
            "-e", f"FOOTPRINT_RUNNER_CREDENTIAL={secret}",
            "-e", f"FOOTPRINT_RUNNER_WORK_DIR={work}",
            # A cgroup root of its own, as on a host of its own: a runner thaws and clears its root.
            "-e", f"FOOTPRINT_CGROUP_ROOT={s['FOOTPRINT_CGROUP_ROOT']}-{name}",
            "-e", f"FOOTPRINT_RUNNER_HOST={name}-host",
            "-v", f"{s.get('FOOTPRINT_DOCKER_SOCKET', '/var/run/docker.sock')}:/var/run/docker.sock",
            "-v", f"{work}:{work}", "-v", "/sys/fs/cgroup:/sys/fs/cgroup",
            s["FOOTPRINT_RUNNER_IMAGE"],
        ],
        env=stack.environ,
    )  # fmt: skip
    state.setdefault("extra_containers", []).append(container)
    mounts = json.loads(run(["docker", "inspect", container], env=stack.environ).stdout)[0]["Mounts"]
    assert not any(m.get("Destination", "").startswith("/var/lib/footprint/storage") for m in mounts)
    assert not any(m.get("Type") == "volume" for m in mounts)
    return container, secret


def wait_for_runner(stack: Stack, name: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    code = (
        "import json; from benchmarks.models import RunnerStatus; "
        f"statuses = RunnerStatus.objects.filter(runner_id='{name}', docker_ok=True); "
        "print(json.dumps(list(statuses.values_list('state', flat=True))))"
    )
    while time.monotonic() < deadline:
        if stack.shell(code) in (["idle"], ["busy"]):
            return
        time.sleep(3)
    raise AssertionError(f"the runner {name} never reported ready")


def test_a_second_runner_without_the_storage_volume_shares_the_queue_without_a_duplicate(stack: Stack, state):
    started = time.monotonic()
    state["second"], state["second_secret"] = start_second_runner(stack, state, "r2")
    wait_for_runner(stack, "r2")
    # From the credential's creation to the runner's first heartbeat, as the platform reads it.
    print(f"\ndeploy: a second runner joined (credential, docker run, ready) in {time.monotonic() - started:.1f} s")
    run_ids = submit_again(stack, SCALE_RUNS)
    runs = wait_for_runs(stack, run_ids)
    assert [r["state"] for r in runs] == ["succeeded"] * SCALE_RUNS, json.dumps(runs)
    by_runner = {}
    for r in runs:
        by_runner[r["runner"]] = by_runner.get(r["runner"], 0) + 1
    # Each run claimed once and measured once; both runners took some.
    assert all(r["tokens"] == 1 and r["results"] == 1 and r["attempt"] == 1 for r in runs), runs
    assert set(by_runner) == {"local-cpu-local", "r2"}, by_runner
    # r2 fetched every input over HTTP: its cache holds the benchmark's files and the tarball by hash.
    cached = run(
        ["docker", "exec", state["second"], "sh", "-c", "ls $FOOTPRINT_RUNNER_WORK_DIR/cache"], env=stack.environ
    )
    assert len(cached.stdout.split()) == 4, cached.stdout
    print(
        f"\ndeploy scale: {SCALE_RUNS} runs over 2 runners: {by_runner}; claims per run "
        f"{[r['tokens'] for r in runs]}, results per run {[r['results'] for r in runs]}"
    )
    state["scale"] = by_runner


def test_a_revoked_runner_can_no_longer_fetch_or_report(stack: Stack, state: dict):
    # Only r2 takes jobs while this run starts, so that it is r2's credential that goes mid-run.
    stack.compose("stop", "runner", timeout=300)
    # A warm-up long enough that the run is still going when it is revoked.
    stack.shell(
        "from benchmarks.models import Benchmark; Benchmark.objects.filter(slug='digits').update(warmup_s=20); print(1)"
    )
    [run_id] = submit_again(stack, 1)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        row = stack.shell(
            f"import json; from submissions.models import Run; r = Run.objects.get(pk={run_id}); "
            "print(json.dumps([r.state, r.runner_host]))"
        )
        if row[0] in ("staging", "compressing", "measuring") and row[1] == "r2":
            break
        assert row[0] not in ("succeeded", "failed"), row
        time.sleep(0.5)
    # r2 is held still while it is revoked, so that it cannot finish first whatever the load.
    run(["docker", "pause", state["second"]], env=stack.environ)
    try:
        revoked = stack.manage("runner_credential", "revoke", "r2").strip()
    finally:
        run(["docker", "unpause", state["second"]], env=stack.environ)
    print("\n" + revoked)
    assert revoked == "revoked r2; runs queued again: 1"
    stack.compose("start", "runner", timeout=300)
    [outcome] = wait_for_runs(stack, [run_id])
    stack.shell(
        "from benchmarks.models import Benchmark; "
        f"Benchmark.objects.filter(slug='digits').update({FAST_BENCHMARK}); print(1)"
    )
    # Handed to the host's runner as a new attempt, and measured there.
    assert outcome["state"] == "succeeded" and outcome["runner"] == "local-cpu-local" and outcome["attempt"] == 2, (
        json.dumps(outcome)
    )
    # What r2 still sent about it was refused and recorded, not applied.
    refused = []
    for _ in range(60):
        refused = stack.shell(
            f"import json; from submissions.models import Run; run = Run.objects.get(pk={run_id}); "
            "refused = run.transitions.filter(ignored=True, reason__contains='refused a report of the runner r2'); "
            "print(json.dumps(list(refused.values_list('reason', flat=True))))"
        )
        if refused:
            break
        time.sleep(3)
    assert refused and "credential was revoked" in refused[0]
    # And it can fetch nothing any more: the platform refuses its credential.
    probe = run(
        [
            "docker", "exec", state["second"], "python3", "-c",
            "import os; from runners.platform_client import PlatformClient, PlatformError\n"
            "client = PlatformClient(os.environ['FOOTPRINT_PLATFORM_URL'], os.environ['FOOTPRINT_RUNNER_CREDENTIAL'])\n"
            "try:\n    client.claim(run_id=1, attempt=1, execution='probe')\nexcept PlatformError as exc:\n"
            "    print(exc.status, exc.code)",
        ],
        env=stack.environ,
    )  # fmt: skip
    assert probe.stdout.decode().split() == ["403", "credential_revoked"]


def test_metrics_give_queue_lengths_runs_by_state_and_heartbeats(stack: Stack):
    browser = stack.browser()
    assert browser.get("/metrics").status == 401
    answer = browser.request(
        "GET", "/metrics", headers={"Authorization": f"Bearer {stack.settings['FOOTPRINT_METRICS_TOKEN']}"}
    )
    assert answer.status == 200
    assert 'footprint_queue_jobs{hardware_class="cpu-local",queue="runner.cpu-local"} 0.0' in answer.text
    assert 'footprint_runs{hardware_class="cpu-local",state="succeeded"}' in answer.text
    assert (
        'footprint_runner_last_heartbeat_timestamp_seconds{hardware_class="cpu-local",runner="local-cpu-local"'
        in answer.text
    )
    assert "footprint_broker_up 1.0" in answer.text


def test_a_backup_restored_after_a_wipe_brings_the_leaderboard_back(stack: Stack, state: dict):
    before = stack.browser().get("/benchmarks/digits/cpu-local/").text.count('class="method">')
    assert before == state["board_methods"] + SCALE_RUNS + 1
    backup = stack.work_dir.parent / "backup"
    print("\n" + stack.script("backup.sh", str(backup)).strip())
    # The second runner's container is on the deployment's network: it goes first, as a host
    # that is switched off would, or the network cannot be removed.
    for container in state.pop("extra_containers", []):
        run(["docker", "rm", "-f", "-v", container], env=stack.environ)
    stack.compose("down", "-v", "-t", "20", timeout=600)  # every volume: database, broker, files
    stack.up()
    stack.wait_until_served()
    assert 'class="method">' not in stack.browser().get("/benchmarks/digits/cpu-local/").text
    print(stack.script("restore.sh", str(backup)).strip())
    stack.wait_until_served()
    after = stack.browser().get("/benchmarks/digits/cpu-local/")
    assert after.text.count('class="method">') == before, after.text[:2000]
    # The restored files are the stored ones: a new run of a restored submission is measured.
    [run_id] = submit_again(stack, 1)
    [outcome] = wait_for_runs(stack, [run_id])
    assert outcome["state"] == "succeeded", outcome
