"""Dispatch overhead: from a run queued to a runner taking it, with many runs and two runners.

    .venv/bin/python perf/dispatch.py [--json] [--runs 100] [--runners 2]

The real path, on this machine's PostgreSQL and RabbitMQ (DATABASE_URL's server, a database of
its own, dropped at the end; FOOTPRINT_TEST_AMQP_URL) and Docker engine: the web side under
gunicorn (claims and files over HTTP), a platform Celery worker (dispatch, reports), and
`--runners` runner processes (`python -m runners`, each with its own credential) on one queue.
`--runs` submissions are queued in one transaction.

Each job ends in staging right after its claim and its first fetches (the tarball is not in
the storage), so that what is timed is the machinery that hands jobs out, not a measurement.
Per run: queued -> taken (the claim's time; includes waiting for a runner to be free), and the
**dispatch overhead**: the claim's time minus the later of the run's dispatch and the end of
the same runner's previous job (the task's own time, from the runner's log), i.e. the time a
free runner took to get a job that was waiting. Also: claims per run (duplicates), runs per
runner, wall time and throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
SUCCEEDED = re.compile(r"Task runners\.execute_job\[[0-9a-f-]+\] succeeded in ([0-9.]+)s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(1000 * statistics.median(values), 1),
        "p90_ms": round(1000 * percentile(values, 0.9), 1),
        "max_ms": round(1000 * max(values), 1),
        "mean_ms": round(1000 * statistics.fmean(values), 1),
    }


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--runners", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1200)
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL", "postgresql://footprint:footprint@127.0.0.1:5432/footprint")
    broker = os.environ.get("FOOTPRINT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
    tag = uuid.uuid4().hex[:8]
    database = f"fp_perf_dispatch_{tag}"
    folder = Path(tempfile.mkdtemp(prefix="footprint-perf-dispatch-"))
    port = free_port()
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "DOCKER_HOST") if key in os.environ}
    env.update(
        PYTHONPATH=f"{REPO}{os.pathsep}{REPO / 'platform'}",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="footprint.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=with_database(server, database),
        CELERY_BROKER_URL=broker,
        FOOTPRINT_STORAGE_ROOT=str(folder / "storage"),
        FOOTPRINT_RUNNER_FILES_URL=f"http://127.0.0.1:{port}",
        # Present on the engine, so that runners start; the jobs end before they would use it.
        FOOTPRINT_RUNTIME_IMAGE=os.environ.get("FOOTPRINT_BASE_IMAGE", "footprint/base:bookworm"),
        DJANGO_STATIC_ROOT=str(folder / "static"),
        # One user queues every run at once: quotas that let that through.
        FOOTPRINT_QUOTA_SUBMISSIONS_PER_DAY=str(10 * args.runs),
        FOOTPRINT_QUOTA_ACTIVE_RUNS=str(10 * args.runs),
    )
    os.environ.update(env)
    sys.path[:0] = [str(REPO), str(REPO / "platform")]

    import psycopg

    admin = psycopg.connect(with_database(server, "postgres"), autocommit=True)
    admin.execute(f'CREATE DATABASE "{database}"')
    processes: list[subprocess.Popen] = []
    queue = f"runner.perf-dispatch-{tag}"
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from django.contrib.auth import get_user_model
        from django.db import connection, transaction

        from benchmarks.credentials import runner_credential_create
        from benchmarks.models import HardwareClass
        from demo.digits import seed_digits
        from submissions.models import JobToken, Run
        from submissions.services import submission_create

        benchmark = seed_digits()
        HardwareClass.objects.update(active=False)
        hardware_class = HardwareClass.objects.create(name=f"perf-dispatch-{tag}", cpuset="0")
        credentials = [
            runner_credential_create(name=f"perf-runner-{n}", hardware_class=hardware_class)
            for n in range(args.runners)
        ]
        owner = get_user_model().objects.create_user(username="perf", password=secrets.token_urlsafe(12))
        connection.close()

        def start(name: str, command: list[str], extra: dict[str, str]) -> subprocess.Popen:
            log = open(folder / f"{name}.log", "wb")
            process = subprocess.Popen(
                command, env={**env, **extra}, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            process.log_path = folder / f"{name}.log"  # type: ignore[attr-defined]
            processes.append(process)
            return process

        python = sys.executable
        start(
            "web",
            [python, "-m", "gunicorn", "--chdir", "platform", "footprint.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
            {},
        )
        start(
            "worker",
            [python, "-m", "celery", "-A", "footprint", "worker", "-Q", "platform", "-c", "2", "-n", f"perf-{tag}@%h",
             "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            {},
        )  # fmt: skip
        for n, issued in enumerate(credentials):
            start(
                f"runner-{n}",
                [python, "-m", "runners", "--hardware-class", hardware_class.name],
                {
                    "FOOTPRINT_PLATFORM_URL": f"http://127.0.0.1:{port}",
                    "FOOTPRINT_RUNNER_CREDENTIAL": issued.secret,
                    "FOOTPRINT_RUNNER_WORK_DIR": str(folder / f"runner-{n}"),
                    "FOOTPRINT_CGROUP_ROOT": f"footprint-it-{tag}{n}",
                },
            )
        from benchmarks.models import RunnerStatus

        deadline = time.monotonic() + 180
        while RunnerStatus.objects.filter(hardware_class=hardware_class, state="idle").count() < args.runners:
            for process in processes:
                if process.poll() is not None:
                    sys.exit(f"{process.args[:4]} exited:\n{process.log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                sys.exit("the runners did not report ready within 180 s")
            time.sleep(0.5)

        started = time.monotonic()
        with transaction.atomic():
            for n in range(args.runs):
                submission_create(
                    owner=owner, benchmark=benchmark, name=f"perf {n}", description="", division="standard",
                    tarball_path=f"submissions/absent-{n}.tar", tarball_sha256="0" * 64, size_bytes=1,
                    image_id="sha256:" + "0" * 64, published=False,
                )  # fmt: skip
        while Run.objects.filter(hardware_class=hardware_class).exclude(state__in=Run.TERMINAL_STATES).exists():
            if time.monotonic() - started > args.timeout:
                sys.exit(f"the runs did not finish within {args.timeout} s")
            time.sleep(0.5)
        wall_s = time.monotonic() - started

        runs = list(Run.objects.filter(hardware_class=hardware_class).order_by("pk"))
        tokens = list(JobToken.objects.filter(run__in=runs).select_related("credential").order_by("created", "id"))
        claims: dict[int, int] = {}
        for token in tokens:
            claims[token.run_id] = claims.get(token.run_id, 0) + 1
        run_by_id = {run.pk: run for run in runs}
        queued_to_taken = [
            (token.created - run_by_id[token.run_id].created).total_seconds()
            for token in tokens
            if claims[token.run_id] == 1
        ]
        overhead: list[float] = []
        all_durations: list[float] = []
        per_runner: dict[str, int] = {}
        for n, issued in enumerate(credentials):
            name = issued.credential.name
            taken = [t for t in tokens if t.credential_id == issued.credential.pk]
            per_runner[name] = len(taken)
            durations = [float(d) for d in SUCCEEDED.findall((folder / f"runner-{n}.log").read_text())]
            all_durations += durations
            for k, token in enumerate(taken):
                run = run_by_id[token.run_id]
                available = run.dispatched_at or run.created
                if k > 0 and k - 1 < len(durations):
                    previous_end = taken[k - 1].created.timestamp() + durations[k - 1]
                    available_s = max(available.timestamp(), previous_end)
                else:
                    available_s = available.timestamp()
                overhead.append(max(0.0, token.created.timestamp() - available_s))
        failed_as_meant = sum(1 for run in runs if run.failure_code == "input_unavailable")
        report = {
            "runs": len(runs),
            "runners": args.runners,
            "job": "ends in staging after its claim and fetches (its tarball is not in the storage)",
            "runs_ended_as_meant": failed_as_meant,
            "claims_per_run_max": max(claims.values()) if claims else 0,
            "runs_claimed_twice": sum(1 for c in claims.values() if c > 1),
            "runs_per_runner": per_runner,
            "wall_s": round(wall_s, 2),
            "throughput_runs_per_s": round(len(runs) / wall_s, 2),
            "dispatch_overhead": summary(overhead),
            "queued_to_taken": summary(queued_to_taken),
            "job_s_median": round(statistics.median(all_durations), 3),
        }
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            for key, value in report.items():
                print(f"{key}: {value}")
        return 0 if failed_as_meant == len(runs) and report["runs_claimed_twice"] == 0 else 1
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        try:
            from footprint.celery import app

            with app.connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)
        except Exception:  # noqa: BLE001 - the broker may be down; the queue is empty anyway
            pass
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001
            pass
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
        for hierarchy in Path("/sys/fs/cgroup").glob("*"):
            for n in range(args.runners):
                root = hierarchy / f"footprint-it-{tag}{n}"
                for path in sorted(root.glob("**/"), key=lambda p: len(p.parts), reverse=True):
                    try:
                        path.rmdir()  # cgroup folders go with rmdir only, once empty
                    except OSError:
                        pass
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
