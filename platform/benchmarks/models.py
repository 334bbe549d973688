from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

CONTRACT = "footprint.contract/1"
# Offline throughput tries each declared batch size in a fresh container (runners/job.py
# MAX_DECLARED_BATCH_SIZES for the submission, plus one for the reference).
MAX_OFFLINE_CONTAINERS = 8 + 1
_AT_LEAST_ONE = MinValueValidator(1)


def validate_watts_above_zero(value: float) -> None:
    """A power figure must be positive: 0 W would make every estimate a false zero."""
    if value is not None and not value > 0:
        raise ValidationError(f"{value} W is not a power a busy core draws; give a figure above 0, or leave it empty")


class Benchmark(models.Model):
    """A dataset with its hidden test split, a reference model, a metric and the limits.

    The files live in the storage under `data_dir` (train.npz, test.npz,
    reference/model.pt). A new version of the data gets a new folder and `data_version`,
    so that a job already queued keeps reading the files it was given.
    """

    class Metric(models.TextChoices):
        ACCURACY = "accuracy", "accuracy"

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    metric = models.CharField(max_length=32, choices=Metric.choices, default=Metric.ACCURACY)
    num_classes = models.PositiveIntegerField(validators=[MinValueValidator(2)])
    input_shape = models.JSONField(help_text="shape of one input, e.g. [1, 8, 8]")
    data_version = models.PositiveIntegerField(default=1)
    data_dir = models.CharField(
        max_length=500, help_text="folder relative to the storage root, e.g. benchmarks/digits/1"
    )
    reference_accuracy = models.FloatField(
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="accuracy of the reference model on the test split, measured at import",
    )
    reference_model_sha256 = models.CharField(max_length=64)
    # Digest of the arrays of both splits and of the reference model file: equal digests,
    # equal data (the .npz files themselves carry time stamps).
    data_sha256 = models.CharField(max_length=64, blank=True)
    accuracy_floor_fraction = models.FloatField(
        default=0.98,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="a submission ranks only with accuracy >= this fraction of the reference's",
    )

    # Limits of the sandbox (the job spec's `limits`); a zero would mean "nothing allowed".
    compress_wall_s = models.PositiveIntegerField(default=900, validators=[_AT_LEAST_ONE])
    serve_wall_s = models.PositiveIntegerField(default=600, validators=[_AT_LEAST_ONE])
    serve_ready_s = models.PositiveIntegerField(default=60, validators=[_AT_LEAST_ONE])
    memory_bytes = models.PositiveBigIntegerField(default=2 * 2**30, validators=[_AT_LEAST_ONE])
    pids_limit = models.PositiveIntegerField(default=256, validators=[_AT_LEAST_ONE])
    tmpfs_bytes = models.PositiveBigIntegerField(default=256 * 2**20, validators=[_AT_LEAST_ONE])
    output_max_bytes = models.PositiveBigIntegerField(default=512 * 2**20, validators=[_AT_LEAST_ONE])

    # Measurement protocol (the job spec's `measurement`).
    warmup_queries = models.PositiveIntegerField(default=10)
    warmup_s = models.FloatField(default=2.0, validators=[MinValueValidator(0.0)])
    min_queries = models.PositiveIntegerField(default=1024)
    min_duration_s = models.FloatField(default=0.0, validators=[MinValueValidator(0.0)])
    accuracy_batch_size = models.PositiveIntegerField(default=64, validators=[_AT_LEAST_ONE])
    seed = models.PositiveIntegerField(default=0)
    # The serve phase runs in this many fresh containers per server; figures are medians.
    serve_repeats = models.PositiveSmallIntegerField(
        default=3, validators=[_AT_LEAST_ONE, MaxValueValidator(20)], help_text="fresh server processes per subject"
    )
    unstable_cv_threshold = models.FloatField(
        default=0.05,
        validators=[MinValueValidator(0.0)],
        help_text="a result is flagged unstable when the p50 CV over the repeats exceeds this fraction",
    )

    # Whether anyone may download the benchmark's files, test split included (for
    # `footprint reproduce`); off, the test split stays on the runners (hidden labels).
    data_public = models.BooleanField(
        default=False,
        help_text="anyone may download both splits and the reference (public data, e.g. a demo); "
        "off: the test split never leaves the runners",
    )

    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("slug",)

    def __str__(self) -> str:
        return self.name

    def accuracy_floor(self) -> float:
        """The accuracy a submission must reach to be ranked, against the stored reference.

        Ranking uses the same fraction of the reference accuracy measured in the same job
        (see submissions.services); this figure is what task.json tells the submitter.
        """
        return self.accuracy_floor_fraction * self.reference_accuracy

    def limits(self) -> dict[str, int]:
        return {
            "compress_wall_s": self.compress_wall_s,
            "serve_wall_s": self.serve_wall_s,
            "serve_ready_s": self.serve_ready_s,
            "memory_bytes": self.memory_bytes,
            "pids": self.pids_limit,
            "tmpfs_bytes": self.tmpfs_bytes,
            "output_max_bytes": self.output_max_bytes,
        }

    def measurement(self) -> dict[str, float | int]:
        return {
            "warmup_queries": self.warmup_queries,
            "warmup_s": self.warmup_s,
            "min_queries": self.min_queries,
            "min_duration_s": self.min_duration_s,
            "accuracy_batch_size": self.accuracy_batch_size,
            "seed": self.seed,
            "repeats": self.serve_repeats,
            "unstable_cv_threshold": self.unstable_cv_threshold,
        }

    def task_document(self, *, threads: int) -> dict[str, Any]:
        """The task.json of the submission contract, for a runner giving `threads` cores."""
        return {
            "contract": CONTRACT,
            "benchmark": self.slug,
            "metric": self.metric,
            "input": {"shape": list(self.input_shape), "dtype": "float32"},
            "num_classes": self.num_classes,
            "reference_accuracy": self.reference_accuracy,
            "accuracy_floor": self.accuracy_floor(),
            "threads": threads,
            "seed": self.seed,
            "limits": {"compress_wall_s": self.compress_wall_s, "memory_bytes": self.memory_bytes},
        }

    def longest_silence_s(self, *, margin_s: int) -> int:
        """How long a run of this benchmark may go without a progress report.

        A runner reports when a phase starts; the measuring phase serves the reference,
        the submission and the null server one after the other, each `serve_repeats` times
        within its limits, then up to MAX_OFFLINE_CONTAINERS containers for throughput.
        """
        serve_phases = 3 * self.serve_repeats + MAX_OFFLINE_CONTAINERS
        return self.compress_wall_s + serve_phases * (self.serve_ready_s + self.serve_wall_s) + margin_s


class HardwareClass(models.Model):
    """A kind of measurement machine; every runner of the class consumes one queue."""

    name = models.SlugField(max_length=64, unique=True, help_text="e.g. cpu-local")
    cpu_description = models.CharField(max_length=200, blank=True)
    gpu_description = models.CharField(max_length=200, blank=True)
    cores = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    cpuset = models.CharField(
        max_length=64,
        help_text="CPUs the sandbox is pinned to, in cpuset syntax: '1' or '2-3' or '0,2'",
    )
    gpus = models.PositiveSmallIntegerField(default=0)
    # The runner's energy estimate where no counter (RAPL, NVML) is readable: container
    # CPU-seconds x this figure, labelled "estimated" and never ranked against measured.
    cpu_watts_per_core = models.FloatField(
        null=True,
        blank=True,
        validators=[validate_watts_above_zero],
        help_text=(
            "power drawn by one fully busy core, in watts, for energy estimates on runner hosts "
            "without an energy counter; empty: no estimate"
        ),
    )
    # Turns a result's total energy into CO2e (budgets.costs); None: no CO2e is shown, a
    # zero would claim a carbon-free grid.
    grid_intensity_g_per_kwh = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0)],
        help_text="grid carbon intensity for CO2e, gCO2e per kWh, set by the operator; empty: no CO2e",
    )
    active = models.BooleanField(default=True, help_text="new submissions run on active classes")
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "hardware classes"

    def __str__(self) -> str:
        return self.name

    @property
    def queue(self) -> str:
        return f"runner.{self.name}"

    def job_document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cpuset": self.cpuset,
            "cores": self.cores,
            "gpus": self.gpus,
            # None (no estimate) rather than 0: a zero would be a figure, and a false one.
            "cpu_watts_per_core": self.cpu_watts_per_core or None,
        }


class RunnerCredential(models.Model):
    """What one runner presents to the platform: its id (the name) and a secret.

    An operator makes it (admin, or `manage.py runner_credential create`) and hands the secret
    to the runner host once; only its digest is kept. With it a runner claims the jobs of its
    hardware class and gets each job's token (submissions.claims). Revoking it stops the
    runner at once: no claim, no file, no report and no heartbeat of it is accepted any more.
    """

    name = models.SlugField(max_length=64, unique=True, help_text="the runner's id, e.g. lab-b-gpu-1")
    hardware_class = models.ForeignKey(HardwareClass, on_delete=models.PROTECT, related_name="credentials")
    secret_digest = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.hardware_class_id and self.hardware_class.name})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class RunnerStatus(models.Model):
    """The last heartbeat of one runner serving one hardware class."""

    class State(models.TextChoices):
        IDLE = "idle", "idle"
        BUSY = "busy", "busy"
        UNAVAILABLE = "unavailable", "unavailable"

    # The runner's own id (the name of its credential); the host it runs on is `host`.
    runner_id = models.CharField(max_length=64)
    credential = models.ForeignKey(
        RunnerCredential, null=True, blank=True, on_delete=models.SET_NULL, related_name="statuses"
    )
    host = models.CharField(max_length=255)
    # The name the runner reported; kept even when no such class exists, so that the
    # runners page can say "a runner serves cpu-foo, which is not a hardware class".
    hardware_class_name = models.CharField(max_length=64)
    hardware_class = models.ForeignKey(
        HardwareClass, null=True, blank=True, on_delete=models.SET_NULL, related_name="runners"
    )
    state = models.CharField(max_length=16, choices=State.choices)
    docker_ok = models.BooleanField(default=False)
    detail = models.TextField(blank=True)
    versions = models.JSONField(default=dict, blank=True)
    # The runs the runner said it holds in its last heartbeat.
    running = models.JSONField(default=list, blank=True)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("hardware_class_name", "runner_id")
        verbose_name_plural = "runner statuses"
        constraints = (
            models.UniqueConstraint(fields=("runner_id", "hardware_class_name"), name="one_status_per_runner_id"),
        )

    def __str__(self) -> str:
        return f"{self.runner_id} on {self.host} ({self.hardware_class_name}): {self.state}"
