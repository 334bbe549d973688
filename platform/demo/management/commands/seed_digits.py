"""manage.py seed_digits: the digits demo benchmark alone (perf/harness.py reads its files)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from demo.digits import seed_digits


class Command(BaseCommand):
    help = "Create the digits demo benchmark (trains its reference once, in seconds)."

    def handle(self, *args: Any, **options: Any) -> None:
        benchmark = seed_digits()
        self.stdout.write(
            f"benchmark {benchmark.slug}: data version {benchmark.data_version}, "
            f"reference accuracy {benchmark.reference_accuracy:.4f}"
        )
