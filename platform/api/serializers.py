"""Shapes of the API's JSON. Thin: they read what selectors prefetched and call no service.

Every figure is {"subject", "name", "value", "unit", "label"}: a number never travels
without its unit and whether it was measured, estimated or declared.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.models import ApiToken, TarballUpload
from benchmarks.models import Benchmark, HardwareClass
from budgets.models import Track
from leaderboard.selectors import track_limits_text
from pages.presenters import failure_hint
from papers.models import Claim, Paper
from submissions.models import Figure, Result, Run, RunTransition, Submission
from submissions.selectors import (
    run_failure_sentence,
    run_log_tails,
    run_phase_timings,
    submission_can_view,
    submissions_visible_to,
)


class SlugField(serializers.SlugRelatedField):
    """A row named by a slug; a name with a NUL byte names none (PostgreSQL refuses NUL in text)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", "\\x00"))
        return super().to_internal_value(data)


# ---------------------------------------------------------------------------------------
# Figures


class FigureSerializer(serializers.Serializer):
    subject = serializers.CharField(help_text="submission, reference or null (the null server)")
    name = serializers.CharField(help_text="e.g. accuracy, latency_p50, speedup (runners/README.md)")
    value = serializers.FloatField(allow_null=True)
    unit = serializers.CharField(help_text="fraction, us, ratio, bytes, s, J, mJ, count, ...")
    label = serializers.ChoiceField(choices=Figure.Label.choices)


def figure_dict(*, subject: str, name: str, value: float | None, unit: str, label: str) -> dict[str, Any]:
    return {"subject": subject, "name": name, "value": value, "unit": unit, "label": label}


def figures_of(figures: list[Figure]) -> list[dict[str, Any]]:
    return [figure_dict(subject=f.subject, name=f.name, value=f.value, unit=f.unit, label=f.label) for f in figures]


# ---------------------------------------------------------------------------------------
# Benchmarks, hardware classes, tracks


class TrackSerializer(serializers.ModelSerializer):
    benchmark = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    limits = serializers.SerializerMethodField(help_text="the limits in words")

    class Meta:
        model = Track
        fields = ("benchmark", "slug", "name", "order", "max_device_hours", "max_kwh", "limits")

    def get_limits(self, track: Track) -> str:
        return track_limits_text(track)


class BenchmarkSerializer(serializers.ModelSerializer):
    reference_accuracy = serializers.SerializerMethodField()
    limits = serializers.SerializerMethodField()
    measurement = serializers.SerializerMethodField()
    tracks = TrackSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Benchmark
        fields = (
            "slug",
            "name",
            "description",
            "metric",
            "num_classes",
            "input_shape",
            "data_version",
            "data_public",
            "reference_accuracy",
            "accuracy_floor_fraction",
            "limits",
            "measurement",
            "tracks",
            "url",
        )

    @extend_schema_field(FigureSerializer)
    def get_reference_accuracy(self, benchmark: Benchmark) -> dict[str, Any]:
        # Measured at import on the test split (what task.json tells submitters).
        return figure_dict(
            subject="reference", name="accuracy", value=benchmark.reference_accuracy, unit="fraction", label="measured"
        )

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_limits(self, benchmark: Benchmark) -> dict[str, int]:
        return benchmark.limits()

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "number"}})
    def get_measurement(self, benchmark: Benchmark) -> dict[str, float | int]:
        return benchmark.measurement()

    def get_url(self, benchmark: Benchmark) -> str:
        return reverse("api:benchmark-detail", args=[benchmark.slug])


class HardwareClassSerializer(serializers.ModelSerializer):
    class Meta:
        model = HardwareClass
        fields = (
            "name",
            "cpu_description",
            "gpu_description",
            "cores",
            "gpus",
            "cpu_watts_per_core",
            "grid_intensity_g_per_kwh",
            "active",
        )


# ---------------------------------------------------------------------------------------
# Submissions


class RunSummarySerializer(serializers.ModelSerializer):
    hardware_class = serializers.SlugRelatedField(slug_field="name", read_only=True)
    url = serializers.SerializerMethodField()
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = ("id", "hardware_class", "state", "url", "web_url")

    def get_url(self, run: Run) -> str:
        return reverse("api:run-detail", args=[run.pk])

    def get_web_url(self, run: Run) -> str:
        return reverse("run-detail", args=[run.pk])


class SubmissionSerializer(serializers.ModelSerializer):
    benchmark = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    runs = RunSummarySerializer(many=True, read_only=True)
    papers = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    url = serializers.SerializerMethodField()
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = (
            "id",
            "name",
            "description",
            "benchmark",
            "division",
            "owner",
            "published",
            "created",
            "image_id",
            "image_reference",
            "tarball_sha256",
            "tarball_size_bytes",
            "runs",
            "papers",
            "url",
            "web_url",
        )

    def get_url(self, submission: Submission) -> str:
        return reverse("api:submission-detail", args=[submission.pk])

    def get_web_url(self, submission: Submission) -> str:
        return reverse("submission-detail", args=[submission.pk])


class SubmissionCreateSerializer(serializers.Serializer):
    """A new submission; its image is exactly one of: `upload` (a complete upload of
    /api/v1/uploads/), `image_reference` (host/name@sha256:…) or `tarball` (a file in a
    multipart request, for small images)."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    benchmark = SlugField(slug_field="slug", queryset=Benchmark.objects.all())
    division = serializers.ChoiceField(choices=Submission.Division.choices, default=Submission.Division.STANDARD)
    hardware_classes = SlugField(
        slug_field="name",
        queryset=HardwareClass.objects.filter(active=True),
        many=True,
        required=False,
        help_text="where to run it (default: every active hardware class)",
    )
    paper = SlugField(
        slug_field="slug",
        queryset=Paper.objects.all(),
        required=False,
        allow_null=True,
        help_text="a paper of yours that this submission implements",
    )
    upload = serializers.PrimaryKeyRelatedField(queryset=TarballUpload.objects.all(), required=False, allow_null=True)
    image_reference = serializers.CharField(required=False, allow_blank=True, max_length=500)
    tarball = serializers.FileField(required=False, allow_null=True, help_text="multipart only")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        # Creation checks ownership: only the requester's uploads and papers can be named.
        if user is not None and user.is_authenticated:
            self.fields["upload"].queryset = TarballUpload.objects.filter(owner=user)
            self.fields["paper"].queryset = Paper.objects.filter(owner=user)
        else:
            self.fields["upload"].queryset = TarballUpload.objects.none()
            self.fields["paper"].queryset = Paper.objects.none()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [key for key in ("upload", "image_reference", "tarball") if attrs.get(key)]
        if len(given) != 1:
            raise serializers.ValidationError(
                "give the image in exactly one way: upload (an upload's id), image_reference "
                "(host/name@sha256:…) or tarball (a multipart file)"
            )
        return attrs


class PublishSerializer(serializers.Serializer):
    published = serializers.BooleanField(read_only=True)


# ---------------------------------------------------------------------------------------
# Uploads in pieces


class UploadSerializer(serializers.ModelSerializer):
    offset = serializers.IntegerField(source="offset_bytes", read_only=True)
    complete = serializers.BooleanField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = TarballUpload
        fields = ("id", "size_bytes", "offset", "complete", "created", "updated", "url")

    def get_url(self, upload: TarballUpload) -> str:
        return reverse("api:upload-detail", args=[upload.pk])


class UploadBeginSerializer(serializers.Serializer):
    size_bytes = serializers.IntegerField(min_value=1, help_text="the tarball's size in bytes")
    sha256 = serializers.RegexField(
        r"^[0-9a-f]{64}$", required=False, allow_blank=True, help_text="the tarball's sha256 (hex), checked at the end"
    )


# ---------------------------------------------------------------------------------------
# Runs


class TransitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunTransition
        fields = ("from_state", "to_state", "at", "reason", "attempt", "ignored")


class FailureSerializer(serializers.Serializer):
    phase = serializers.CharField()
    code = serializers.CharField()
    reason = serializers.CharField(help_text="why, in the run page's words")
    text = serializers.CharField(help_text="the run page's failure notice, headline and reason")
    what_to_do = serializers.CharField(help_text="the run page's advice for this kind of failure")


class PhaseTimingSerializer(serializers.Serializer):
    phase = serializers.CharField()
    exit_code = serializers.IntegerField(allow_null=True)
    timed_out = serializers.BooleanField(allow_null=True)
    oom_killed = serializers.BooleanField(allow_null=True)
    figures = FigureSerializer(many=True, help_text="wall and CPU time (s), peak memory (bytes)")


class RunSerializer(serializers.ModelSerializer):
    submission = serializers.PrimaryKeyRelatedField(read_only=True)
    benchmark = serializers.SerializerMethodField()
    hardware_class = serializers.SlugRelatedField(slug_field="name", read_only=True)
    failure = serializers.SerializerMethodField()
    transitions = TransitionSerializer(many=True, read_only=True)
    phases = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    web_url = serializers.SerializerMethodField()
    logs_url = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = (
            "id",
            "submission",
            "benchmark",
            "hardware_class",
            "state",
            "attempt",
            "created",
            "dispatched_at",
            "updated",
            "finished_at",
            "failure",
            "transitions",
            "phases",
            "result",
            "url",
            "web_url",
            "logs_url",
        )

    def get_benchmark(self, run: Run) -> str:
        return run.submission.benchmark.slug

    @extend_schema_field(FailureSerializer(allow_null=True))
    def get_failure(self, run: Run) -> dict[str, str] | None:
        if run.state != Run.FAILED:
            return None
        return {
            "phase": run.failure_phase,
            "code": run.failure_code,
            "reason": run.failure_reason,
            "text": run_failure_sentence(run=run),
            # The run page's "What to do", in the same words.
            "what_to_do": failure_hint(run.failure_code),
        }

    @extend_schema_field(PhaseTimingSerializer(many=True))
    def get_phases(self, run: Run) -> list[dict[str, Any]]:
        return [
            {
                "phase": timing.phase,
                "exit_code": timing.exit_code,
                "timed_out": timing.timed_out,
                "oom_killed": timing.oom_killed,
                "figures": [
                    figure_dict(subject=timing.phase, name=name, value=value, unit=unit, label="measured")
                    for name, value, unit in timing.figures
                ],
            }
            for timing in run_phase_timings(phases=getattr(run, "result_phases", None))
        ]

    @extend_schema_field(OpenApiTypes.INT)
    def get_result(self, run: Run) -> int | None:
        return getattr(run, "result_id", None)

    def get_url(self, run: Run) -> str:
        return reverse("api:run-detail", args=[run.pk])

    def get_web_url(self, run: Run) -> str:
        return reverse("run-detail", args=[run.pk])

    def get_logs_url(self, run: Run) -> str:
        return reverse("api:run-logs", args=[run.pk])


class LogTailSerializer(serializers.Serializer):
    phase = serializers.CharField()
    text = serializers.CharField(help_text="the end of the phase's output (untrusted text of the submission)")
    cut = serializers.BooleanField(help_text="the phase wrote more than this")


class RunLogsSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    state = serializers.CharField()
    logs = LogTailSerializer(many=True)

    @staticmethod
    def of(run: Run) -> dict[str, Any]:
        tails = run_log_tails(run=run)
        return {"run": run.pk, "state": run.state, "logs": [t.__dict__ for t in tails]}


# ---------------------------------------------------------------------------------------
# Results


class StandingSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="ranked, speedup_not_measured, under_accuracy_floor, audit_failed, ...")
    reason = serializers.CharField(help_text="why it has no rank, in words; empty when ranked")


class ResultSerializer(serializers.ModelSerializer):
    run = serializers.PrimaryKeyRelatedField(read_only=True)
    submission = serializers.SerializerMethodField()
    method = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    benchmark = serializers.SerializerMethodField()
    hardware_class = serializers.SerializerMethodField()
    division = serializers.SerializerMethodField()
    finished_at = serializers.SerializerMethodField()
    standing = serializers.SerializerMethodField()
    figures = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Result
        fields = (
            "id",
            "run",
            "submission",
            "method",
            "owner",
            "benchmark",
            "hardware_class",
            "division",
            "finished_at",
            "meets_accuracy_floor",
            "flags",
            "standing",
            "figures",
            "url",
        )

    @extend_schema_field(OpenApiTypes.INT)
    def get_submission(self, result: Result) -> int:
        return result.run.submission_id

    def get_method(self, result: Result) -> str:
        return result.run.submission.name

    def get_owner(self, result: Result) -> str:
        return result.run.submission.owner.get_username()

    def get_benchmark(self, result: Result) -> str:
        return result.run.submission.benchmark.slug

    def get_hardware_class(self, result: Result) -> str:
        return result.run.hardware_class.name

    def get_division(self, result: Result) -> str:
        return result.run.submission.division

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_finished_at(self, result: Result) -> str | None:
        finished = result.run.finished_at
        return finished.isoformat() if finished else None

    @extend_schema_field(StandingSerializer)
    def get_standing(self, result: Result) -> dict[str, str]:
        standing = self.context["standings"][result.pk]
        return {"status": str(standing.standing), "reason": standing.reason}

    @extend_schema_field(FigureSerializer(many=True))
    def get_figures(self, result: Result) -> list[dict[str, Any]]:
        return figures_of(list(result.figures.all()))

    def get_url(self, result: Result) -> str:
        return reverse("api:result-detail", args=[result.pk])


# ---------------------------------------------------------------------------------------
# Papers and claims


class ClaimSerializer(serializers.ModelSerializer):
    paper = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    benchmark = SlugField(slug_field="slug", queryset=Benchmark.objects.all())
    hardware_class = SlugField(slug_field="name", queryset=HardwareClass.objects.all())
    submission = serializers.PrimaryKeyRelatedField(
        queryset=Submission.objects.none(), required=False, allow_null=True, help_text="one of your submissions"
    )

    class Meta:
        model = Claim
        fields = (
            "id",
            "paper",
            "benchmark",
            "hardware_class",
            "submission",
            "method",
            *Claim.CLAIMED_FIELDS,
            "note",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        # A claim measures one of the paper owner's own submissions, never another's.
        if user is not None and user.is_authenticated:
            self.fields["submission"].queryset = Submission.objects.filter(owner=user)

    def to_representation(self, claim: Claim) -> dict[str, Any]:
        data = super().to_representation(claim)
        # Another user's private submission stays invisible, even through a claim.
        if claim.submission_id is not None and claim.submission_id not in self._visible([claim.submission_id]):
            data["submission"] = None
        return data

    def _visible(self, ids: list[int]) -> set[int]:
        visible = self.context.get("visible_submission_ids")
        if visible is None:
            viewer = getattr(self.context.get("request"), "user", None) or AnonymousUser()
            visible = set(submissions_visible_to(user=viewer).filter(pk__in=ids).values_list("pk", flat=True))
        return visible

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from django.core.exceptions import ValidationError as DjangoValidationError

        claim = self.instance or Claim(paper=self.context["paper"])
        for key, value in attrs.items():
            setattr(claim, key, value)
        try:
            claim.full_clean(exclude=["paper"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from None
        return attrs


class PaperSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    link = serializers.URLField(
        source="url", required=False, allow_blank=True, max_length=500, help_text="the paper's page or PDF"
    )
    submissions = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Paper
        fields = ("slug", "title", "authors", "venue", "year", "arxiv_id", "doi", "link", "owner", "submissions", "url")

    @extend_schema_field({"type": "array", "items": {"type": "integer"}})
    def get_submissions(self, paper: Paper) -> list[int]:
        # Another user's private submission stays invisible, even linked to a paper.
        viewer = getattr(self.context.get("request"), "user", None) or AnonymousUser()
        return [s.pk for s in paper.submissions.all() if submission_can_view(viewer, s)]

    def get_url(self, paper: Paper) -> str:
        return reverse("api:paper-detail", args=[paper.slug])


class QuantityCheckSerializer(serializers.Serializer):
    quantity = serializers.CharField()
    status = serializers.CharField()
    claimed = FigureSerializer()
    measured = FigureSerializer(allow_null=True)
    gap = serializers.FloatField(allow_null=True, help_text="absolute for accuracy, else relative to the claim")
    tolerance = serializers.FloatField()
    note = serializers.CharField()


class ClaimCheckSerializer(serializers.Serializer):
    claim = ClaimSerializer()
    status = serializers.CharField()
    reason = serializers.CharField()
    run = serializers.IntegerField(allow_null=True, help_text="the run measured, when you may see it")
    quantities = QuantityCheckSerializer(many=True)


class PaperCheckSerializer(serializers.Serializer):
    paper = PaperSerializer()
    status = serializers.CharField(help_text="reproduced, partially reproduced, not reproduced or pending")
    claims = ClaimCheckSerializer(many=True)


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ("id", "name", "prefix", "created", "last_used_at", "revoked_at")
        read_only_fields = ("prefix", "created", "last_used_at", "revoked_at")


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="shown this once; only its sha256 is kept")

    class Meta(TokenSerializer.Meta):
        fields = (*TokenSerializer.Meta.fields, "token")


class PasswordTokenSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    name = serializers.CharField(max_length=100, default="footprint login")


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    quotas = serializers.DictField()
