"""How fast are Footprint's pages with many results? Server time of the leaderboard and the
result page, and their query counts, on a database seeded with N results.

    .venv/bin/python perf/pages.py [--json] [--results 10000] [--requests 40]
        [--database-url postgresql://footprint:footprint@127.0.0.1:5432/fp_perf_pages]

Creates (and drops first, and at the end unless --keep-database) its own PostgreSQL database, migrates it, and seeds one
benchmark on one hardware class with N published submissions, each with one succeeded run
and a result as a runner stores it (figures, audits; a few under the accuracy floor, a few
with a failed audit, a few invalidated, some with a declared search, some estimated
energy). Rows are written with COPY (seconds for 100,000 results); the board entries are
then written by the platform itself, as the first read of the board does, and that time
is printed apart (`entries_write_s`).

Each page is requested through Django's test client in this process (middleware, views,
templates: the server's time, without a network), `--requests` times after three warm-up
requests; `<page>_p95_ms` is the 95th percentile. A leaderboard page is cached under the
board stamp (leaderboard.stamp) once built, so its `_p95_ms` is a reader's of a view read
before since the last change, and `<page>_cold_p95_ms` the same requests with that cache
emptied before each one, and the cache of rendered rows too (every page built from the
database, as a fresh process does); `<page>_changed_p95_ms` the same requests each after a
committed change to the board (a submission far down the board renamed): the page, its
counts and fronts are built again, the rows whose content did not change come from the row
cache (leaderboard.row_cells), which is what the first reader after a change gets;
`leaderboard_paging_p95_ms`
is a reader's paging through the filtered view: each page built, the board's counts,
fronts and baseline kept from its first page. `<page>_queries` counts one request's
queries; `<page>_queries_page_10` and `_page_200` count them at 10 and 200 rows a page,
which must be equal. `host_pace_ms` is a fixed Python loop's time, taken between the views
(and its range): the VM's pace moves by tens of percent, so compare runs taken at a similar
pace, or the views of one run with each other.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "platform")]

DEFAULT_DATABASE_URL = "postgresql://footprint:footprint@127.0.0.1:5432/fp_perf_pages"
SAMPLES_PER_SUBJECT = 1024


def _configure(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SECRET_KEY", "perf-only-secret-key-not-for-deployment-0123456789abcdefgh")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SETTINGS_MODULE"] = "footprint.settings"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")


def _recreate_database(database_url: str, *, create: bool = True) -> None:
    import psycopg

    parsed = urlparse(database_url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _latency_samples(rng: random.Random, median_us: float) -> list[float]:
    return [round(median_us * math.exp(rng.gauss(0.0, 0.12)), 3) for _ in range(SAMPLES_PER_SUBJECT)]


def seed(results: int, *, seed_value: int = 0) -> dict[str, int]:
    """N published submissions with one succeeded run and result each; returns ids to request."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from benchmarks.models import Benchmark, HardwareClass
    from budgets.services import tracks_ensure_defaults
    from papers.models import Paper

    rng = random.Random(seed_value)
    now = timezone.now()
    owners = [get_user_model().objects.create_user(username=f"lab{n}", password=None) for n in range(50)]
    benchmark = Benchmark.objects.create(
        slug="digits",
        name="Digits",
        num_classes=10,
        input_shape=[1, 8, 8],
        data_dir="benchmarks/digits/1",
        reference_accuracy=0.97,
        reference_model_sha256="b" * 64,
    )
    tracks_ensure_defaults(benchmark=benchmark)
    hardware_class = HardwareClass.objects.create(name="cpu-local", cores=1, cpuset="1", cpu_watts_per_core=5.0)
    paper = Paper.objects.create(slug="sparse-and-fast", title="Sparse and fast", authors="A. Lovelace")

    submission_rows, run_rows, result_rows, figure_rows, audit_rows, invalidations = [], [], [], [], [], []
    figure_id = audit_id = 0
    detail_run = results // 2 + 1
    for n in range(1, results + 1):
        finished = now - timezone.timedelta(seconds=results - n)
        division = "standard" if n % 4 else "own"
        submission_rows.append(
            (
                n,
                owners[n % len(owners)].pk,
                benchmark.pk,
                f"method {n}",
                "a seeded method",
                division,
                f"sha256:{n:064x}",
                f"{n:064x}",
                f"submissions/{n:032x}.tar",
                123456,
                "",
                True,
                finished,
            )
        )
        run_rows.append(
            (
                n,
                n,
                hardware_class.pk,
                "succeeded",
                "",
                "",
                "",
                1,
                "perf-host",
                "",
                "{}",
                finished,
                finished,
                finished,
                finished,
            )
        )
        reference_p50 = rng.uniform(180.0, 220.0)
        speedup = math.exp(rng.uniform(-0.2, 1.6))
        latency = reference_p50 / speedup
        accuracy = min(0.995, max(0.5, 0.97 - 0.01 * math.log(speedup) * rng.uniform(0.0, 3.0) + rng.gauss(0, 0.004)))
        if n % 97 == 0:
            accuracy = 0.6  # under the floor
        estimated = n % 3 == 0
        energy_label = "estimated" if estimated else "measured"
        reference_mj = rng.uniform(0.4, 0.6)
        method: dict = {"name": f"method {n}"}
        if n % 5 == 0:
            method["search"] = {
                "device_type": "NVIDIA A100",
                "device_count": rng.randint(1, 8),
                "hours": rng.uniform(0.5, 200),
            }
            if n % 10 == 0:
                method["search"]["energy_kwh"] = rng.uniform(1, 300)
        if n % 11 == 0:
            method["trials"] = [{"score": rng.uniform(0.8, 0.97), "duration_s": 60.0} for _ in range(20)]
        provenance: dict = {"runner": {"host": "perf-host", "cpu_model": "perf CPU"}, "repeats": 3}
        if n == detail_run:
            provenance["latency_samples_us"] = {
                "reference": _latency_samples(rng, reference_p50),
                "submission": _latency_samples(rng, latency),
                "null": _latency_samples(rng, 9.0),
            }
        document = {
            "schema": "footprint.result/1",
            "run_id": n,
            "status": "succeeded",
            "method": method,
            "provenance": provenance,
        }
        flags = ["unstable"] if n % 13 == 0 else []
        result_rows.append(
            (
                n,
                n,
                "footprint.result/1",
                json.dumps(document),
                json.dumps(provenance),
                accuracy >= 0.98 * 0.97,
                json.dumps(flags),
                finished,
            )
        )
        figures = [
            ("submission", "accuracy", accuracy, "fraction", "measured"),
            ("reference", "accuracy", 0.97, "fraction", "measured"),
            ("submission", "latency_p50", latency, "us", "measured"),
            ("submission", "latency_p90", latency * 1.2, "us", "measured"),
            ("reference", "latency_p50", reference_p50, "us", "measured"),
            ("reference", "latency_p90", reference_p50 * 1.2, "us", "measured"),
            ("submission", "speedup", speedup, "ratio", "measured"),
            ("submission", "speedup_ci_low", speedup * 0.97, "ratio", "measured"),
            ("submission", "speedup_ci_high", speedup * 1.03, "ratio", "measured"),
            ("submission", "theoretical_speedup", speedup * rng.uniform(1.0, 6.0), "ratio", "measured"),
            ("submission", "compression_ratio", rng.uniform(1.0, 12.0), "ratio", "measured"),
            ("submission", "serve_peak_memory", rng.uniform(40e6, 90e6), "bytes", "measured"),
            ("reference", "serve_peak_memory", 80e6, "bytes", "measured"),
            ("submission", "compress_wall", rng.uniform(2.0, 900.0), "s", "measured"),
            ("submission", "compress_cpu", rng.uniform(2.0, 900.0), "s", "measured"),
            ("submission", "compress_energy_net", rng.uniform(10.0, 4000.0), "J", energy_label),
            ("submission", "energy_per_inference", reference_mj / speedup, "mJ", energy_label),
            ("reference", "energy_per_inference", reference_mj, "mJ", energy_label),
        ]
        for subject, name, value, unit, label in figures:
            figure_id += 1
            figure_rows.append((figure_id, n, subject, name, value, unit, label))
        failed = n % 89 == 0
        for name in ("timed_predictions", "caching"):
            audit_id += 1
            verdict = "failed" if failed and name == "timed_predictions" else "passed"
            audit_rows.append((audit_id, n, name, "submission", verdict, "", None, None, "", "seeded audit", "runner"))
        if n % 101 == 0:
            invalidations.append((n, owners[0].pk, now, "seeded invalidation"))

    with connection.cursor() as cursor:
        raw = cursor.cursor
        _copy(
            raw,
            "submissions_submission",
            [
                "id",
                "owner_id",
                "benchmark_id",
                "name",
                "description",
                "division",
                "image_id",
                "tarball_sha256",
                "tarball_path",
                "tarball_size_bytes",
                "image_reference",
                "published",
                "created",
            ],
            submission_rows,
        )
        _copy(
            raw,
            "submissions_run",
            [
                "id",
                "submission_id",
                "hardware_class_id",
                "state",
                "failure_phase",
                "failure_code",
                "failure_reason",
                "attempt",
                "runner_host",
                "execution",
                "logs",
                "dispatched_at",
                "created",
                "updated",
                "finished_at",
            ],
            run_rows,
        )
        _copy(
            raw,
            "submissions_result",
            ["id", "run_id", "schema", "document", "provenance", "meets_accuracy_floor", "flags", "created"],
            result_rows,
        )
        _copy(raw, "submissions_figure", ["id", "result_id", "subject", "name", "value", "unit", "label"], figure_rows)
        _copy(
            raw,
            "submissions_audit",
            [
                "id",
                "result_id",
                "name",
                "subject",
                "verdict",
                "figure",
                "value",
                "threshold",
                "unit",
                "sentence",
                "source",
            ],
            audit_rows,
        )
        _copy(raw, "submissions_resultinvalidation", ["result_id", "by_id", "at", "reason"], invalidations)
        for table in (
            "submissions_submission",
            "submissions_run",
            "submissions_result",
            "submissions_figure",
            "submissions_audit",
        ):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        cursor.execute(
            "INSERT INTO papers_paper_submissions (paper_id, submission_id) "
            "SELECT %s, id FROM submissions_submission WHERE id %% 50 = 0",
            [paper.pk],
        )
        cursor.execute("ANALYZE")
    return {"benchmark": benchmark.pk, "hardware_class": hardware_class.pk, "detail_run": detail_run}


def _clear_boards(*, rows: bool = False) -> None:
    """Empty the cache of rendered boards; `rows`: that of rendered rows too."""
    from django.core.cache import caches

    from leaderboard import row_cells, stamp

    caches[stamp.CACHE_ALIAS].clear()
    if rows:
        caches[row_cells.CACHE_ALIAS].clear()


def _change_board(submission_id: int, number: int) -> None:
    """A committed change to what the board shows: the stamp changes, every page is stale."""
    from submissions.models import Submission

    assert Submission.objects.filter(pk=submission_id).update(name=f"renamed method {number}") == 1


def _time(client, url: str, requests: int, *, cold: bool = False, change: int | None = None) -> list[float]:
    """Server times of `requests` requests after three warm-up ones; `cold`: each with the
    caches of rendered boards and rows emptied first (every page built from the database);
    `change`: each after a committed rename of that submission."""
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    times = []
    for number in range(requests):
        if cold:
            _clear_boards(rows=True)
        if change is not None:
            _change_board(change, number)
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000.0)
        assert response.status_code == 200
    return times


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _pace_ms() -> float:
    """How fast the host runs Python right now: the best of five runs of a fixed loop (ms).

    The VM's pace moves by tens of percent within seconds; these readings, taken between the
    views' measurements, say which pace a run's figures were taken at (compare runs by them)."""
    best = math.inf
    for _ in range(5):
        start = time.perf_counter()
        sum(i * i for i in range(50_000))
        best = min(best, time.perf_counter() - start)
    return best * 1000.0


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def measure(ids: dict[str, int], *, requests: int) -> dict[str, float | int]:
    from django.test import Client

    from benchmarks.models import Benchmark, HardwareClass
    from leaderboard.entries import entries_ensure

    benchmark = Benchmark.objects.get(pk=ids["benchmark"])
    hardware_class = HardwareClass.objects.get(pk=ids["hardware_class"])
    start = time.perf_counter()
    entries_ensure(benchmark=benchmark, hardware_class=hardware_class)
    figures: dict[str, float | int] = {"entries_write_s": round(time.perf_counter() - start, 2)}
    from django.db import connection

    with connection.cursor() as cursor:
        # What autovacuum does after a bulk write: statistics for the planner (without them it
        # guesses one row) and the visibility map that lets the board be read from its indexes.
        for table in ("leaderboard_boardentry", "submissions_submission", "submissions_result", "submissions_figure"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    from leaderboard.models import BoardEntry

    # The change between `_changed` requests: the slowest entry is on no page measured here.
    ids["far_submission"] = (
        BoardEntry.objects.filter(benchmark_id=benchmark.pk, hardware_class_id=hardware_class.pk, speedup__isnull=False)
        .order_by("speedup")
        .values_list("submission_id", flat=True)
        .first()
    )
    board = f"/benchmarks/{benchmark.slug}/{hardware_class.name}/"
    pages = {
        "leaderboard": board,
        "leaderboard_filtered": f"{board}?sort=latency_p50_us&division=standard&track=medium&page=3",
        "result": f"/runs/{ids['detail_run']}/",
    }
    client = Client()
    paces = []
    for name, url in pages.items():
        paces.append(_pace_ms())
        times = _time(client, url, requests)
        figures[f"{name}_p95_ms"] = round(_p95(times), 1)
        figures[f"{name}_median_ms"] = round(statistics.median(times), 1)
        if name.startswith("leaderboard"):
            figures[f"{name}_cached_queries"] = _queries(client, url)
            _clear_boards()
        figures[f"{name}_queries"] = _queries(client, url)
        if name.startswith("leaderboard"):
            cold = _time(client, url, requests, cold=True)
            figures[f"{name}_cold_p95_ms"] = round(_p95(cold), 1)
            figures[f"{name}_cold_median_ms"] = round(statistics.median(cold), 1)
            changed = _time(client, url, requests, change=ids["far_submission"])
            figures[f"{name}_changed_p95_ms"] = round(_p95(changed), 1)
            figures[f"{name}_changed_median_ms"] = round(statistics.median(changed), 1)
    # A reader paging through a view: every page is built (none was read before), the
    # board's counts, fronts and baseline are the first page's (cached under the stamp).
    _clear_boards()
    filtered = f"{board}?sort=latency_p50_us&division=standard&track=medium"
    assert client.get(filtered).status_code == 200
    paging = []
    for number in range(2, requests + 2):
        start = time.perf_counter()
        assert client.get(f"{filtered}&page={number}").status_code == 200
        paging.append((time.perf_counter() - start) * 1000.0)
    figures["leaderboard_paging_p95_ms"] = round(_p95(paging), 1)
    figures["leaderboard_paging_median_ms"] = round(statistics.median(paging), 1)
    separator = "&" if "?" in board else "?"
    # Query counts of pages built from the database (a cached page reads a few rows only).
    _clear_boards()
    figures["leaderboard_queries_page_10"] = _queries(client, f"{board}{separator}per_page=10")
    _clear_boards()
    figures["leaderboard_queries_page_200"] = _queries(client, f"{board}{separator}per_page=200")
    figures["leaderboard_bytes"] = len(client.get(board).content)
    paces.append(_pace_ms())
    figures["host_pace_ms"] = round(statistics.median(paces), 2)
    figures["host_pace_ms_range"] = [round(min(paces), 2), round(max(paces), 2)]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--results", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--database-url", default=os.environ.get("FOOTPRINT_PERF_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--keep-database", action="store_true", help="leave the seeded database (to look at it)")
    args = parser.parse_args()

    _configure(args.database_url)
    _recreate_database(args.database_url)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        start = time.perf_counter()
        ids = seed(args.results)
        seeded_s = time.perf_counter() - start
        # What a web process does once started (footprint.wsgi): its heap out of the collector's way.
        from footprint.wsgi import settle_heap

        settle_heap()
        figures = {"results": args.results, "seed_s": round(seeded_s, 1), **measure(ids, requests=args.requests)}
    finally:
        if not args.keep_database:
            from django.db import connections

            connections.close_all()
            _recreate_database(args.database_url, create=False)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>32}: {value}")


if __name__ == "__main__":
    main()
