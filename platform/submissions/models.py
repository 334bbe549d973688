from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from benchmarks.models import Benchmark, HardwareClass


class Submission(models.Model):
    """A containerized compression method, uploaded as a `docker save` tarball.

    Owned by one user for now; a team owner comes later as a nullable `team` field, and
    every ownership decision goes through submissions.selectors.submission_can_edit.
    """

    DIVISION_STANDARD = "standard"
    DIVISION_OWN = "own"
    DIVISION_CHOICES = (
        (DIVISION_STANDARD, "standard runtime (closed)"),
        (DIVISION_OWN, "own runtime (open)"),
    )

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions")
    benchmark = models.ForeignKey(Benchmark, on_delete=models.PROTECT, related_name="submissions")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    division = models.CharField(max_length=16, choices=DIVISION_CHOICES)
    image_id = models.CharField(max_length=71, help_text="sha256:<hex> of the image config")
    tarball_sha256 = models.CharField(max_length=64, db_index=True)
    # Relative to the storage root, under a random name; never served by the site.
    tarball_path = models.CharField(max_length=500)
    tarball_size_bytes = models.PositiveBigIntegerField()
    published = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("-created", "-id")

    def __str__(self) -> str:
        return self.name


class Run(models.Model):
    """One measurement of a submission on one hardware class; see submissions.state."""

    QUEUED = "queued"
    STAGING = "staging"
    COMPRESSING = "compressing"
    MEASURING = "measuring"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STATE_CHOICES = (
        (QUEUED, "queued"),
        (STAGING, "staging"),
        (COMPRESSING, "compressing"),
        (MEASURING, "measuring"),
        (SUCCEEDED, "succeeded"),
        (FAILED, "failed"),
        (CANCELLED, "cancelled"),
    )
    ACTIVE_STATES = (QUEUED, STAGING, COMPRESSING, MEASURING)
    RUNNING_STATES = (STAGING, COMPRESSING, MEASURING)
    TERMINAL_STATES = (SUCCEEDED, FAILED, CANCELLED)

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="runs")
    hardware_class = models.ForeignKey(HardwareClass, on_delete=models.PROTECT, related_name="runs")
    state = models.CharField(max_length=16, choices=STATE_CHOICES, default=QUEUED)
    failure_phase = models.CharField(max_length=32, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_reason = models.TextField(blank=True)
    # How many times a runner started the job (a redelivered job is a new attempt).
    attempt = models.PositiveIntegerField(default=1)
    runner_host = models.CharField(max_length=255, blank=True)
    # Log tails by phase (compress, serve_reference, ...), also kept for failed runs.
    logs = models.JSONField(default=dict, blank=True)
    # When the job was handed to the broker; None while it has not been (see dispatch).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    # Time of the last state change or progress report: the stuck-run sweeper reads it.
    updated = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created", "-id")
        indexes = (models.Index(fields=("state", "updated"), name="run_state_updated"),)
        constraints = (
            # One run in flight per (submission, hardware class): enqueueing twice (a
            # double click, a re-run of seed_demo) returns the run already in flight.
            models.UniqueConstraint(
                fields=("submission", "hardware_class"),
                condition=models.Q(state__in=("queued", "staging", "compressing", "measuring")),
                name="one_active_run_per_submission_and_class",
            ),
        )

    def __str__(self) -> str:
        return f"run {self.pk} of {self.submission_id} on {self.hardware_class_id}: {self.state}"

    @property
    def is_terminal(self) -> bool:
        return self.state in self.TERMINAL_STATES


class RunTransition(models.Model):
    """A recorded state change of a run, with its reason; `ignored` marks late reports."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=16, choices=Run.STATE_CHOICES)
    to_state = models.CharField(max_length=16, choices=Run.STATE_CHOICES)
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()
    attempt = models.PositiveIntegerField()
    # A report that arrived after the run had finished and changed nothing.
    ignored = models.BooleanField(default=False)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.from_state} -> {self.to_state}: {self.reason}"


class Result(models.Model):
    """The result document a runner sent for a run, as received and validated."""

    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="result")
    schema = models.CharField(max_length=64)
    document = models.JSONField()
    provenance = models.JSONField(default=dict)
    # None when the run failed or the accuracies are missing.
    meets_accuracy_floor = models.BooleanField(null=True)
    # The document's flags (docs/measurement.md, "Flags"): "unstable", "predictions_differ",
    # "cache_suspected"; shown wherever the result is.
    flags = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"result of run {self.run_id}"


class Figure(models.Model):
    """One measured, estimated or declared number of a result."""

    SUBJECT_SUBMISSION = "submission"
    SUBJECT_REFERENCE = "reference"
    SUBJECT_NULL = "null"
    SUBJECT_CHOICES = (
        (SUBJECT_SUBMISSION, "submission"),
        (SUBJECT_REFERENCE, "reference"),
        (SUBJECT_NULL, "null server"),
    )
    LABEL_MEASURED = "measured"
    LABEL_ESTIMATED = "estimated"
    LABEL_DECLARED = "declared"
    LABEL_CHOICES = (
        (LABEL_MEASURED, "measured"),
        (LABEL_ESTIMATED, "estimated"),
        (LABEL_DECLARED, "declared"),
    )

    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="figures")
    subject = models.CharField(max_length=16, choices=SUBJECT_CHOICES)
    name = models.CharField(max_length=64)
    value = models.FloatField()
    unit = models.CharField(max_length=16)
    label = models.CharField(max_length=16, choices=LABEL_CHOICES)

    class Meta:
        ordering = ("subject", "name")
        constraints = (
            models.UniqueConstraint(fields=("result", "subject", "name"), name="one_figure_per_subject_and_name"),
        )

    def __str__(self) -> str:
        return f"{self.subject} {self.name} = {self.value} {self.unit} ({self.label})"
