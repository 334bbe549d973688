from __future__ import annotations

import math
import os
import secrets
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from benchmarks.digits import seed_digits
from benchmarks.models import Benchmark, HardwareClass
from footprint.storage import footprint_storage, storage_path
from submissions.models import Run, Submission
from submissions.services import run_enqueue, submission_create

DEMO_USERNAME = "demo"
DEMO_HARDWARE_CLASS = "cpu-local"
DEMO_WATTS_VARIABLE = "FOOTPRINT_DEMO_CPU_WATTS_PER_CORE"
# A guess for one hardware thread of a desktop or server CPU (e.g. 65 W TDP / 12 threads
# is about 5 W); an operator replaces it with the real machine's figure.
DEFAULT_DEMO_CPU_WATTS_PER_CORE = 5.0
DEMO_GRID_VARIABLE = "FOOTPRINT_DEMO_GRID_INTENSITY_G_PER_KWH"
# About the world's average carbon intensity of electricity in recent years (gCO2e per
# kWh); a demo assumption for CO2e figures, replaced by the operator's own grid's figure.
DEFAULT_DEMO_GRID_INTENSITY_G_PER_KWH = 480.0


def local_cpu_description() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def demo_cpu_watts_per_core() -> float:
    """The demo's power per busy core (FOOTPRINT_DEMO_CPU_WATTS_PER_CORE, default 5.0 W).

    An assumption, not a measurement: runners without an energy counter multiply CPU time
    by it and label the result "estimated" (docs/operator.md, "Energy").
    """
    raw = os.environ.get(DEMO_WATTS_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_DEMO_CPU_WATTS_PER_CORE
    try:
        watts = float(raw)
    except ValueError:
        raise CommandError(f"{DEMO_WATTS_VARIABLE}={raw!r} is not a number of watts, e.g. 5.0") from None
    if not (watts > 0 and math.isfinite(watts)):
        raise CommandError(f"{DEMO_WATTS_VARIABLE}={raw!r} must be a finite number of watts above 0")
    return watts


def demo_grid_intensity_g_per_kwh() -> float:
    """The demo's grid carbon intensity (FOOTPRINT_DEMO_GRID_INTENSITY_G_PER_KWH, default 480).

    An assumption, not a property of the machine: CO2e = total kWh x this figure
    (docs/operator.md, "Energy"; docs/search-cost.md, "CO2e").
    """
    raw = os.environ.get(DEMO_GRID_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_DEMO_GRID_INTENSITY_G_PER_KWH
    try:
        grams = float(raw)
    except ValueError:
        raise CommandError(f"{DEMO_GRID_VARIABLE}={raw!r} is not a number of gCO2e per kWh, e.g. 480") from None
    if not (grams >= 0 and math.isfinite(grams)):
        raise CommandError(f"{DEMO_GRID_VARIABLE}={raw!r} must be a finite number of gCO2e per kWh, 0 or more")
    return grams


def local_hardware_class() -> HardwareClass:
    """cpu-local: one core, the last CPU this process may use (the web server and the
    platform worker are left the others)."""
    cpu = max(os.sched_getaffinity(0))
    watts = demo_cpu_watts_per_core()
    grid_intensity = demo_grid_intensity_g_per_kwh()
    hardware_class, created = HardwareClass.objects.get_or_create(
        name=DEMO_HARDWARE_CLASS,
        defaults={
            "cpu_description": local_cpu_description(),
            "cores": 1,
            "cpuset": str(cpu),
            "gpus": 0,
            "cpu_watts_per_core": watts,
            "grid_intensity_g_per_kwh": grid_intensity,
            "active": True,
        },
    )
    # A demo class seeded before a setting existed gets it; one set in the admin keeps its figure.
    missing = []
    if not created and hardware_class.cpu_watts_per_core is None:
        hardware_class.cpu_watts_per_core = watts
        missing.append("cpu_watts_per_core")
    if not created and hardware_class.grid_intensity_g_per_kwh is None:
        hardware_class.grid_intensity_g_per_kwh = grid_intensity
        missing.append("grid_intensity_g_per_kwh")
    if missing:
        hardware_class.save(update_fields=missing)
    return hardware_class


def demo_user() -> Any:
    user, created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
    password = os.environ.get("FOOTPRINT_DEMO_PASSWORD", "")
    if password:
        user.set_password(password)
        user.save(update_fields=["password"])
    elif created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def example_tarballs(entries: list[str]) -> list[Path]:
    """Tarballs named by the arguments: files, folders (their *.tar), comma-separated lists."""
    paths: list[Path] = []
    for entry in entries:
        for item in (part.strip() for part in entry.split(",")):
            if not item:
                continue
            path = Path(item)
            if path.is_dir():
                found = sorted(path.glob("*.tar"))
                if not found:
                    raise CommandError(f"{path} holds no *.tar file (docker save output)")
                paths.extend(found)
            elif path.is_file():
                paths.append(path)
            else:
                raise CommandError(f"{path} is neither a file nor a folder")
    return paths


def example_name(path: Path, repo_tags: list[str]) -> str:
    if repo_tags:
        # footprint-example/int8-dynamic:1 -> int8-dynamic
        return repo_tags[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return path.stem


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
        from submissions.uploads import InvalidImageTarball, inspect_image_tarball

        try:
            info = inspect_image_tarball(path)
        except InvalidImageTarball as exc:
            raise CommandError(f"{path}: {exc}") from None
        existing = Submission.objects.filter(
            Q(tarball_sha256=info.sha256) | Q(image_id=info.image_id), owner=owner, benchmark=benchmark
        ).first()
        if existing is not None:
            self.stdout.write(f"{path.name}: already submitted as {existing.name!r} (#{existing.pk})")
            self._measure_again_where_missing(existing)
            return
        stored_name = f"submissions/{secrets.token_hex(16)}.tar"
        target = storage_path(stored_name)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Example tarballs are a gigabyte each: a hard link when they share a file system.
            os.link(path, target)
        except OSError:
            with open(path, "rb") as handle:
                stored_name = footprint_storage().save(stored_name, File(handle))
        name = example_name(path, info.repo_tags)
        submission = submission_create(
            owner=owner,
            benchmark=benchmark,
            name=name,
            description=f"Footprint's example {name!r}, submitted by the demo seed.",
            division=division,
            tarball_path=stored_name,
            tarball_sha256=info.sha256,
            size_bytes=info.size_bytes,
            image_id=info.image_id,
            published=True,
        )
        runs = submission.runs.count()
        self.stdout.write(f"{path.name}: submitted as {name!r} (#{submission.pk}), {runs} run(s) queued")

    def _measure_again_where_missing(self, submission: Submission) -> None:
        """A demo submission without a successful or running run on an active class (its
        last run failed, e.g. interrupted by Ctrl-C) is queued again, so the board fills."""
        for hardware_class in HardwareClass.objects.filter(active=True):
            if not submission.runs.filter(
                hardware_class=hardware_class, state__in=(Run.SUCCEEDED, *Run.ACTIVE_STATES)
            ).exists():
                run = run_enqueue(submission=submission, hardware_class=hardware_class)
                self.stdout.write(f"  queued again on {hardware_class.name} (run #{run.pk})")
