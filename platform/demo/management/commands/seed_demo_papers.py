"""manage.py seed_demo_papers: the demo paper, with claims about the demo's example submissions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from benchmarks.models import Benchmark, HardwareClass
from demo.digits import SLUG as DIGITS_SLUG
from demo.papers import EXAMPLE_METHODS, seed_demo_papers
from demo.services import DEMO_HARDWARE_CLASS, DEMO_USERNAME
from submissions.models import Submission


class Command(BaseCommand):
    help = (
        "Seed the demo paper: one claim per example submission of the demo user found on the digits "
        "benchmark (seed_demo --examples submits them), on cpu-local. Re-running creates nothing twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        benchmark = Benchmark.objects.filter(slug=DIGITS_SLUG).first()
        hardware_class = HardwareClass.objects.filter(name=DEMO_HARDWARE_CLASS).first()
        if benchmark is None or hardware_class is None:
            raise CommandError(
                f"the demo's benchmark {DIGITS_SLUG!r} or hardware class {DEMO_HARDWARE_CLASS!r} is missing: "
                "run `manage.py seed_demo` first"
            )
        submissions_by_method: dict[str, Submission] = {}
        # Newest first: a re-submitted example's latest submission measures the claim.
        for submission in Submission.objects.filter(
            owner__username=DEMO_USERNAME, benchmark=benchmark, name__in=EXAMPLE_METHODS
        ).order_by("-created", "-id"):
            submissions_by_method.setdefault(submission.name, submission)
        paper = seed_demo_papers(
            benchmark=benchmark, hardware_class=hardware_class, submissions_by_method=submissions_by_method
        )
        missing = [method for method in EXAMPLE_METHODS if method not in submissions_by_method]
        self.stdout.write(
            f"paper {paper.slug!r}: {paper.claims.count()} claim(s), "
            f"{len(submissions_by_method)} example submission(s) linked"
            + (f"; no submission yet for: {', '.join(missing)}" if missing else "")
        )
