"""How fast is the API's results list with 10,000 results, and does its query count stay
constant in the page size?

    DATABASE_URL=postgresql://user:pass@127.0.0.1:5432/any .venv/bin/python perf/api.py [--json]
        [--results 10000] [--requests 60] [--page-sizes 10,50,200]

Creates a database of its own on DATABASE_URL's server (dropped at the end), migrates it,
stores RESULTS published results (each with a run, 12 figures and a passed audit, as
ingestion stores them) and requests GET /api/v1/results/ through Django's test client, the
whole request path (authentication, the throttle in the database cache, filters, pagination,
serializers) without a network: REQUESTS requests per page size and order (newest first,
and by a figure: ?order=-speedup), interleaved over the first five pages. Prints p50/p95/max
of each (and the web side's CPU time, which other load on the host moves less) and the
queries one request makes at each page size.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "platform"), str(REPO)]

FIGURES = (
    ("submission", "accuracy", "fraction"),
    ("reference", "accuracy", "fraction"),
    ("submission", "latency_p50", "us"),
    ("reference", "latency_p50", "us"),
    ("submission", "latency_p90", "us"),
    ("reference", "latency_p90", "us"),
    ("submission", "speedup", "ratio"),
    ("submission", "speedup_ci_low", "ratio"),
    ("submission", "speedup_ci_high", "ratio"),
    ("submission", "serve_peak_memory", "bytes"),
    ("submission", "compress_wall", "s"),
    ("submission", "artifact_size", "bytes"),
)


def _database(url: str, name: str, *, create: bool) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password, dbname="postgres",
        autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(count: int) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from benchmarks.models import Benchmark, HardwareClass
    from budgets.services import tracks_ensure_defaults
    from submissions.models import Audit, Figure, Result, Run, Submission

    owner = get_user_model().objects.create_user(username="perf", password=secrets.token_hex(8))
    benchmark = Benchmark.objects.create(
        slug="perf", name="Perf", num_classes=10, input_shape=[1, 8, 8], data_dir="benchmarks/perf/1",
        reference_accuracy=0.98, reference_model_sha256="b" * 64,
    )  # fmt: skip
    tracks_ensure_defaults(benchmark=benchmark)
    hardware = HardwareClass.objects.create(name="cpu-perf", cores=1, cpuset="0")
    now = timezone.now()
    batch = 1000
    for start in range(0, count, batch):
        n = min(batch, count - start)
        submissions = Submission.objects.bulk_create(
            Submission(
                owner=owner, benchmark=benchmark, name=f"method {start + i}", division="standard",
                image_id=f"sha256:{start + i:064x}", tarball_sha256=f"{start + i:064x}",
                tarball_path=f"submissions/{start + i:032x}.tar", tarball_size_bytes=1000, published=True,
            )
            for i in range(n)
        )  # fmt: skip
        runs = Run.objects.bulk_create(
            Run(submission=s, hardware_class=hardware, state=Run.SUCCEEDED, finished_at=now, runner_host="perf")
            for s in submissions
        )
        results = Result.objects.bulk_create(
            Result(run=r, schema="footprint.result/1", document={"status": "succeeded"}, meets_accuracy_floor=True)
            for r in runs
        )
        Figure.objects.bulk_create(
            Figure(result=r, subject=subject, name=name, value=1.0 + (r.pk % 97) / 10, unit=unit, label="measured")
            for r in results
            for subject, name, unit in FIGURES
        )
        Audit.objects.bulk_create(
            Audit(result=r, name="timed_predictions", subject="submission", verdict="passed", sentence="all agree")
            for r in results
        )


ORDERS = {"newest first": "", "by -speedup": "&order=-speedup"}


def measure(*, page_sizes: list[int], requests: int, results: int) -> dict[str, object]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    queries: dict[str, int] = {}
    timings: dict[tuple[str, int], list[float]] = {(order, size): [] for order in ORDERS for size in page_sizes}
    # CPU time of this process (the web side) per request: less moved by other load on the host.
    cpu: dict[tuple[str, int], list[float]] = {key: [] for key in timings}
    # Warm the connection, the URL resolver and the serializers once.
    assert client.get("/api/v1/results/?page_size=10").status_code == 200
    for size in page_sizes:
        with CaptureQueriesContext(connection) as captured:
            answer = client.get(f"/api/v1/results/?page_size={size}&order=-speedup")
        assert answer.status_code == 200, answer.content[:500]
        assert len(answer.json()["results"]) == size
        queries[str(size)] = len(captured.captured_queries)
    for i in range(requests):
        for order, query in ORDERS.items():
            for size in page_sizes:
                started, started_cpu = time.perf_counter(), time.process_time()
                page = 1 + i % max(1, min(5, results // size))
                answer = client.get(f"/api/v1/results/?page_size={size}&page={page}{query}")
                timings[(order, size)].append((time.perf_counter() - started) * 1000)
                cpu[(order, size)].append((time.process_time() - started_cpu) * 1000)
                assert answer.status_code == 200
    return {
        "queries_per_request": queries,
        "latency_ms": {
            order: {
                str(size): {
                    "p50": round(statistics.median(timings[(order, size)]), 1),
                    "p95": round(statistics.quantiles(timings[(order, size)], n=20, method="inclusive")[18], 1),
                    "max": round(max(timings[(order, size)]), 1),
                    "cpu_p50": round(statistics.median(cpu[(order, size)]), 1),
                    "requests": len(timings[(order, size)]),
                }
                for size in page_sizes
            }
            for order in ORDERS
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--results", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--page-sizes", default="10,50,200")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        sys.exit("perf/api.py measures on PostgreSQL: set DATABASE_URL=postgresql://user:pass@host:5432/name")
    name = f"fp_perf_api_{secrets.token_hex(4)}"
    parts = urlsplit(base)
    os.environ.update(
        DATABASE_URL=urlunsplit(parts._replace(path=f"/{name}")),
        DJANGO_SETTINGS_MODULE="footprint.settings",
        DJANGO_ALLOWED_HOSTS="testserver",
        FOOTPRINT_API_RATE_ANON="1000000/h",
        # The throttles count in the database cache, as in a deployment without Redis.
        FOOTPRINT_CACHE_URL="db",
    )
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    _database(base, name, create=True)
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seed(args.results)
        seeded_s = time.perf_counter() - started
        report = {
            "results": args.results,
            "seed_s": round(seeded_s, 1),
            **measure(
                page_sizes=[int(s) for s in args.page_sizes.split(",")], requests=args.requests, results=args.results
            ),
        }
    finally:
        from django.db import connections

        connections.close_all()
        _database(base, name, create=False)
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"{args.results} results (seeded in {report['seed_s']} s)")
    for order, sizes in report["latency_ms"].items():  # type: ignore[union-attr]
        for size, figures in sizes.items():
            print(
                f"{order:>13}, page size {size:>4}: p50 {figures['p50']} ms, p95 {figures['p95']} ms, "
                f"max {figures['max']} ms (CPU p50 {figures['cpu_p50']} ms), "
                f"{report['queries_per_request'][size]} queries"  # type: ignore[index]
            )


if __name__ == "__main__":
    main()
