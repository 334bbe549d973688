from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone

from benchmarks.models import Benchmark, HardwareClass


class Submission(models.Model):
    """A containerized compression method, uploaded as a `docker save` tarball.

    Owned by one user for now; a team owner comes later as a nullable `team` field, and
    every ownership decision goes through submissions.selectors.submission_can_edit.
    """

    class Division(models.TextChoices):
        STANDARD = "standard", "standard runtime (closed)"
        OWN = "own", "own runtime (open)"

    # A page shows the description whole: an 870 KB one made a 1.45 MB page.
    DESCRIPTION_MAX_CHARS = 5000

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions")
    benchmark = models.ForeignKey(Benchmark, on_delete=models.PROTECT, related_name="submissions")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(DESCRIPTION_MAX_CHARS)])
    # An off-platform search declared on the upload form, in method.json's `search` form
    # (docs/search-cost.md); used when the method's own method.json declares none. None: none.
    declared_search = models.JSONField(null=True, blank=True)
    division = models.CharField(max_length=16, choices=Division.choices)
    image_id = models.CharField(max_length=71, help_text="sha256:<hex> of the image config")
    # A registry reference pinned by digest (host/name@sha256:<manifest digest>), checked
    # against the registry when submitted and pulled by the runner; "" for an uploaded tarball.
    image_reference = models.CharField(max_length=500, blank=True)
    tarball_sha256 = models.CharField(max_length=64, db_index=True, blank=True)
    # Relative to the storage root, under a random name; never served by the site.
    tarball_path = models.CharField(max_length=500, blank=True)
    # None for a registry reference (no tarball).
    tarball_size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    published = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("-created", "-id")

    def __str__(self) -> str:
        return self.name


class Run(models.Model):
    """One measurement of a submission on one hardware class; see submissions.state."""

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        STAGING = "staging", "staging"
        COMPRESSING = "compressing", "compressing"
        MEASURING = "measuring", "measuring"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

    # Shorthands for the members of State (Run.SUCCEEDED is Run.State.SUCCEEDED).
    QUEUED, STAGING, COMPRESSING, MEASURING = State.QUEUED, State.STAGING, State.COMPRESSING, State.MEASURING
    SUCCEEDED, FAILED, CANCELLED = State.SUCCEEDED, State.FAILED, State.CANCELLED
    ACTIVE_STATES = (QUEUED, STAGING, COMPRESSING, MEASURING)
    RUNNING_STATES = (STAGING, COMPRESSING, MEASURING)
    TERMINAL_STATES = (SUCCEEDED, FAILED, CANCELLED)

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="runs")
    hardware_class = models.ForeignKey(HardwareClass, on_delete=models.PROTECT, related_name="runs")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    failure_phase = models.CharField(max_length=32, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    failure_reason = models.TextField(blank=True)
    # How many times a runner started the job (a redelivered job is a new attempt).
    attempt = models.PositiveIntegerField(default=1)
    runner_host = models.CharField(max_length=255, blank=True)
    # The delivery of the job the run follows (the runner's id for one execution of it): tells
    # a late report of this execution from the first report of a restarted one.
    execution = models.CharField(max_length=64, blank=True)
    # Log tails by phase (compress, serve_reference, ...), also kept for failed runs.
    logs = models.JSONField(default=dict, blank=True)
    # When the job was handed to the broker; None while it has not been (see dispatch).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    # Time of the last state change or progress report: the stuck-run sweeper reads it.
    updated = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The owner asked to stop a run a runner had already started; recorded so that a runner
    # can be told (runners do not receive cancellations yet: the run goes on until then).
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

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
    from_state = models.CharField(max_length=16, choices=Run.State.choices)
    to_state = models.CharField(max_length=16, choices=Run.State.choices)
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

    class Subject(models.TextChoices):
        SUBMISSION = "submission", "submission"
        REFERENCE = "reference", "reference"
        NULL = "null", "null server"

    class Label(models.TextChoices):
        MEASURED = "measured", "measured"
        ESTIMATED = "estimated", "estimated"
        DECLARED = "declared", "declared"

    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="figures")
    subject = models.CharField(max_length=16, choices=Subject.choices)
    name = models.CharField(max_length=64)
    value = models.FloatField()
    unit = models.CharField(max_length=16)
    label = models.CharField(max_length=16, choices=Label.choices)

    class Meta:
        ordering = ("subject", "name")
        constraints = (
            models.UniqueConstraint(fields=("result", "subject", "name"), name="one_figure_per_subject_and_name"),
        )

    def __str__(self) -> str:
        return f"{self.subject} {self.name} = {self.value} {self.unit} ({self.label})"


class Audit(models.Model):
    """One check of the server's honesty in a result (runners/README.md, "audits").

    A result with any failed audit is never ranked: it is shown apart with its audits.
    Results from runners older than audits get theirs from their flags (submissions.audits).
    """

    class Verdict(models.TextChoices):
        PASSED = "passed", "passed"
        FAILED = "failed", "failed"
        NOT_RUN = "not_run", "not run"

    class Source(models.TextChoices):
        RUNNER = "runner", "audited by the runner"
        FLAG = "flag", "read from a flag of a runner older than audits"

    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="audits")
    name = models.CharField(max_length=64)
    subject = models.CharField(max_length=16, choices=Figure.Subject.choices)
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    # The figure the verdict rests on ("" when none), and its value against the threshold.
    figure = models.CharField(max_length=64, blank=True)
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=16, blank=True)
    # What was seen, in plain words; shown to readers as the runner wrote it.
    sentence = models.TextField()
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.RUNNER)

    class Meta:
        ordering = ("id",)
        constraints = (
            models.UniqueConstraint(fields=("result", "subject", "name"), name="one_audit_per_subject_and_name"),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.subject}): {self.verdict}"


class ResultInvalidation(models.Model):
    """An operator's decision that a result must never rank, with who made it, when and why.

    The result, its figures and its audits stay as they were: the run page keeps showing
    the evidence, with this decision above it.
    """

    result = models.OneToOneField(Result, on_delete=models.CASCADE, related_name="invalidation")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()

    def __str__(self) -> str:
        return f"result of run {self.result.run_id} invalidated on {self.at:%Y-%m-%d}: {self.reason}"


class Quota(models.Model):
    """An operator's limits for a user, a benchmark, or one user on one benchmark.

    Without a row, settings.FOOTPRINT_QUOTA_* apply to every user over all benchmarks.
    A row with a user and no benchmark replaces those defaults for that user; a row with a
    benchmark adds limits counted on that benchmark only (for everyone, or for its user,
    whose row wins). An empty field takes the limit from the next row out. Enforced by
    submissions.quotas for the web upload and the API alike.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="quotas"
    )
    benchmark = models.ForeignKey(Benchmark, null=True, blank=True, on_delete=models.CASCADE, related_name="quotas")
    submissions_per_day = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=(
            "submissions in any 24 hours; those whose runs all failed for the platform's reasons "
            "(runner lost, infrastructure) are not counted; empty: the next rule's limit"
        ),
    )
    active_runs = models.PositiveIntegerField(
        null=True, blank=True, help_text="runs queued or running at once; empty: the next rule's limit"
    )
    note = models.CharField(max_length=200, blank=True, help_text="why this rule exists, for other operators")

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("user", "benchmark"), name="one_quota_per_user_and_benchmark"),
            models.UniqueConstraint(
                fields=("user",), condition=models.Q(benchmark__isnull=True), name="one_quota_per_user"
            ),
            models.UniqueConstraint(
                fields=("benchmark",), condition=models.Q(user__isnull=True), name="one_quota_per_benchmark"
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | models.Q(benchmark__isnull=False),
                name="quota_names_a_user_or_a_benchmark",
            ),
        )

    def __str__(self) -> str:
        who = self.user.get_username() if self.user_id else "everyone"
        where = f" on {self.benchmark.slug}" if self.benchmark_id else ""
        return f"quota of {who}{where}"


class JobToken(models.Model):
    """A runner's claim of one attempt of a run, and the secret that goes with it.

    The secret (only its digest is kept) opens that job's files and nothing else, until it
    expires, and signs the job's progress reports and result: a runner can report only the
    jobs it was given (submissions.claims). A later claim of the same attempt by another
    runner (its holder was gone) supersedes it.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tokens")
    attempt = models.PositiveIntegerField()
    credential = models.ForeignKey("benchmarks.RunnerCredential", on_delete=models.PROTECT, related_name="tokens")
    # The runner's id for this delivery of the job (runners/worker.py).
    execution = models.CharField(max_length=64, blank=True)
    secret_digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created", "-id")
        indexes = (models.Index(fields=("run", "attempt"), name="jobtoken_run_attempt"),)

    def __str__(self) -> str:
        return f"token of run {self.run_id} attempt {self.attempt} for {self.credential_id}"
