"""Seed the default budget tracks for every benchmark that exists before this app.

The values are copied here, not imported from budgets.tracks: a migration must keep
doing what it did when it was written, whatever the code's defaults become.
Benchmarks created later get theirs from budgets.services.tracks_ensure_defaults.
"""

from django.db import migrations

DEFAULT_TRACKS = (
    # slug, name, order, max_device_hours, max_kwh
    ("small-lab", "Small lab", 10, 24.0, 10.0),
    ("medium", "Medium", 20, 500.0, 200.0),
    ("large-lab", "Large lab", 30, None, None),
)


def seed_default_tracks(apps, schema_editor):
    Benchmark = apps.get_model("benchmarks", "Benchmark")
    Track = apps.get_model("budgets", "Track")
    for benchmark in Benchmark.objects.all():
        if Track.objects.filter(benchmark=benchmark).exists():
            continue
        Track.objects.bulk_create(
            [
                Track(benchmark=benchmark, slug=slug, name=name, order=order, max_device_hours=hours, max_kwh=kwh)
                for slug, name, order, hours, kwh in DEFAULT_TRACKS
            ]
        )


class Migration(migrations.Migration):

    dependencies = [
        ("budgets", "0001_initial"),
    ]

    operations = [
        # Backwards: 0001's reverse drops the table, tracks and all.
        migrations.RunPython(seed_default_tracks, migrations.RunPython.noop),
    ]
