"""manage.py seed_demo: the demo benchmark, hardware class, user and example submissions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from benchmarks.models import Benchmark
from demo.digits import seed_digits
from demo.services import demo_user, example_runs_requeue, example_submit, example_tarballs, local_hardware_class
from submissions.models import Submission


class Command(BaseCommand):
    help = (
        "Seed the demo: the digits benchmark, the cpu-local hardware class, the demo user, "
        "and optionally example tarballs submitted as published demo submissions. "
        "Re-running creates nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--examples",
            nargs="*",
            default=[],
            metavar="DIR_OR_TAR",
            help="docker save tarballs, folders of them, or comma-separated lists",
        )
        parser.add_argument(
            "--division",
            choices=[Submission.Division.STANDARD, Submission.Division.OWN],
            default=Submission.Division.STANDARD,
            help="division of the example submissions (default: standard)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        benchmark = seed_digits()
        self.stdout.write(f"benchmark {benchmark.slug}: reference accuracy {benchmark.reference_accuracy:.4f}")
        hardware_class = local_hardware_class()
        self.stdout.write(
            f"hardware class {hardware_class.name}: cpuset {hardware_class.cpuset}, "
            f"{hardware_class.cpu_watts_per_core} W per busy core for energy estimates (an assumption), "
            f"{hardware_class.grid_intensity_g_per_kwh} gCO2e per kWh for CO2e (an assumption)"
        )
        user = demo_user()
        self.stdout.write(f"user {user.get_username()}")
        for path in example_tarballs(options["examples"]):
            self._submit(path, benchmark=benchmark, owner=user, division=options["division"])
        # The demo paper's claims point at the example submissions (those present): its page
        # then shows every reproduction status once the runs finish.
        call_command("seed_demo_papers", stdout=self.stdout, stderr=self.stderr)

    def _submit(self, path: Path, *, benchmark: Benchmark, owner: Any, division: str) -> None:
        submission, created = example_submit(path, benchmark=benchmark, owner=owner, division=division)
        if created:
            runs = submission.runs.count()
            self.stdout.write(f"{path.name}: submitted as {submission.name!r} (#{submission.pk}), {runs} run(s) queued")
            return
        self.stdout.write(f"{path.name}: already submitted as {submission.name!r} (#{submission.pk})")
        for run in example_runs_requeue(submission=submission):
            self.stdout.write(f"  queued again on {run.hardware_class.name} (run #{run.pk})")
