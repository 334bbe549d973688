"""Writes of the demo: its hardware class, its user and the example submissions (seed_demo)."""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import CommandError
from django.db.models import Q

from benchmarks.models import Benchmark, HardwareClass
from footprint.storage import footprint_storage, storage_path
from submissions.models import Run, Submission
from submissions.services import run_enqueue, submission_create
from submissions.uploads import InvalidImageTarball, inspect_image_tarball

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
    return _demo_number(
        DEMO_WATTS_VARIABLE,
        DEFAULT_DEMO_CPU_WATTS_PER_CORE,
        unit="watts",
        example="5.0",
        valid=lambda watts: watts > 0,
        valid_text=" above 0",
    )


def demo_grid_intensity_g_per_kwh() -> float:
    """The demo's grid carbon intensity (FOOTPRINT_DEMO_GRID_INTENSITY_G_PER_KWH, default 480).

    An assumption, not a property of the machine: CO2e = total kWh x this figure
    (docs/operator.md, "Energy"; docs/search-cost.md, "CO2e").
    """
    return _demo_number(
        DEMO_GRID_VARIABLE,
        DEFAULT_DEMO_GRID_INTENSITY_G_PER_KWH,
        unit="gCO2e per kWh",
        example="480",
        valid=lambda grams: grams >= 0,
        valid_text=", 0 or more",
    )


def _demo_number(
    variable: str, default: float, *, unit: str, example: str, valid: Callable[[float], bool], valid_text: str
) -> float:
    """A demo assumption from the environment; a value that is not a valid number stops the seed."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        number = float(raw)
    except ValueError:
        raise CommandError(f"{variable}={raw!r} is not a number of {unit}, e.g. {example}") from None
    if not (math.isfinite(number) and valid(number)):
        raise CommandError(f"{variable}={raw!r} must be a finite number of {unit}{valid_text}")
    return number


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


def example_submit(path: Path, *, benchmark: Benchmark, owner: Any, division: str) -> tuple[Submission, bool]:
    """Submit a `docker save` tarball as a published demo submission, once.

    Returns (submission, created): a tarball already submitted (same bytes or same image)
    returns that submission. Raises CommandError for a tarball that is not an image.
    """
    try:
        info = inspect_image_tarball(path)
    except InvalidImageTarball as exc:
        raise CommandError(f"{path}: {exc}") from None
    existing = Submission.objects.filter(
        Q(tarball_sha256=info.sha256) | Q(image_id=info.image_id), owner=owner, benchmark=benchmark
    ).first()
    if existing is not None:
        return existing, False
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
        # The operator's seed, not a user's upload.
        enforce_quota=False,
    )
    return submission, True


def example_runs_requeue(*, submission: Submission) -> list[Run]:
    """Queue again a demo submission on each active class where it has no successful or
    running run (its last run failed, e.g. interrupted by Ctrl-C), so that the board fills."""
    queued = []
    for hardware_class in HardwareClass.objects.filter(active=True):
        if not submission.runs.filter(
            hardware_class=hardware_class, state__in=(Run.SUCCEEDED, *Run.ACTIVE_STATES)
        ).exists():
            queued.append(run_enqueue(submission=submission, hardware_class=hardware_class))
    return queued
