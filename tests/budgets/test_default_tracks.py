"""Default tracks: seeded for new benchmarks by the service, for old ones by the migration."""

from __future__ import annotations

import importlib

from django.apps import apps

from benchmarks.models import Benchmark
from budgets.models import Track
from budgets.services import tracks_ensure_defaults

EXPECTED = [("small-lab", 24.0, 10.0), ("medium", 500.0, 200.0), ("large-lab", None, None)]


def new_benchmark(slug: str) -> Benchmark:
    return Benchmark.objects.create(
        slug=slug,
        name=slug,
        num_classes=10,
        input_shape=[1, 8, 8],
        data_dir=f"benchmarks/{slug}/1",
        reference_accuracy=0.9,
        reference_model_sha256="c" * 64,
    )


def limits(benchmark: Benchmark) -> list[tuple[str, float | None, float | None]]:
    return [(t.slug, t.max_device_hours, t.max_kwh) for t in Track.objects.filter(benchmark=benchmark)]


def test_it_gives_a_new_benchmark_the_default_tracks(db):
    benchmark = new_benchmark("fresh")
    created = tracks_ensure_defaults(benchmark=benchmark)
    assert [t.slug for t in created] == ["small-lab", "medium", "large-lab"]
    assert limits(benchmark) == EXPECTED


def test_it_creates_nothing_for_a_benchmark_that_has_tracks(db):
    benchmark = new_benchmark("again")
    tracks_ensure_defaults(benchmark=benchmark)
    Track.objects.filter(benchmark=benchmark, slug="medium").delete()  # the operator's choice
    Track.objects.filter(benchmark=benchmark, slug="small-lab").update(max_kwh=5.0)
    assert tracks_ensure_defaults(benchmark=benchmark) == []
    assert limits(benchmark) == [("small-lab", 24.0, 5.0), ("large-lab", None, None)]


def test_the_data_migration_seeds_benchmarks_that_have_no_tracks(db):
    migration = importlib.import_module("budgets.migrations.0002_default_tracks")
    bare, seeded = new_benchmark("bare"), new_benchmark("seeded")
    Track.objects.create(benchmark=seeded, slug="only", name="Only", order=1)
    migration.seed_default_tracks(apps, None)
    assert limits(bare) == EXPECTED
    assert limits(seeded) == [("only", None, None)]
