"""The REST API, /api/v1/. Thin: each view reads through api.selectors (querysets filtered for
the viewer) or calls one service, and shapes the answer with api.serializers.

Another user's private submission, run, logs or result answers 404 on every endpoint, as
one that does not exist; a visible object that is not yours answers 403 to a change.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import examples
from api import serializers as s
from api.errors import ApiError
from api.filters import ResultFilter, RunFilter, SubmissionFilter, TrackFilter
from api.models import ApiToken, TarballUpload
from api.selectors import (
    api_papers,
    api_results,
    api_runs,
    api_submissions,
    api_tokens,
    result_standings,
    user_quotas,
    visible_submission_ids,
)
from api.services import (
    SubmissionDraft,
    UploadRefused,
    api_token_create,
    api_token_revoke,
    submission_create_from_file,
    submission_create_from_reference,
    submission_create_from_upload,
    tarball_upload_append,
    tarball_upload_begin,
)
from api.throttles import UploadThrottle
from benchmarks.models import Benchmark, HardwareClass
from budgets.models import Track
from core.downloads import attachment, csv_lines, csv_text
from footprint.ratelimits import client_address, login_rate, upload_count
from footprint.storage import storage_path
from leaderboard.exports import csv_rows, export_document
from leaderboard.selectors import UnknownTrack
from leaderboard.views_query import board_view
from papers.claims import paper_checks
from papers.models import Claim, Paper
from submissions.models import Result, Run, Submission
from submissions.quotas import quota_precheck
from submissions.registry import InvalidImageReference
from submissions.selectors import (
    LATENCY_COLUMNS,
    NoLatencySamples,
    latency_document,
    latency_rows,
    run_latency_samples,
    submission_can_edit,
)
from submissions.services import job_spec_for_run, run_cancel, run_rerun, submission_set_published
from submissions.state import IllegalTransition
from submissions.uploads import upload_rejection

# ---------------------------------------------------------------------------------------
# Renderers, parsers, permissions


class CsvRenderer(BaseRenderer):
    """Rows (header first) as CSV; `?format=csv` or `Accept: text/csv` asks for it."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        # Errors are JSON whatever was asked for (api.errors); CSV bodies are streamed by the views.
        return "".join(csv_lines(data)).encode()


class OffsetOctetStreamParser(BaseParser):
    """A piece of an upload (PATCH), read from the request stream by the view, never buffered."""

    media_type = "application/offset+octet-stream"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return stream


class IsOwnerToChange(permissions.BasePermission):
    """Reading what you can see; changing only what is yours (403 otherwise)."""

    message = "only its owner may change this"

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS and getattr(view, "action", None) not in view.owner_actions:
            return True
        submission = obj.submission if isinstance(obj, Run) else obj
        return submission_can_edit(request.user, submission)


def _refused(exc: UploadRefused) -> ApiError:
    return ApiError(exc.reason, code=exc.code, status_code=exc.status)


def _csv_response(rows: Iterator[list[Any]] | list[list[Any]], *, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    attachment(response, filename=filename)
    return response


# ---------------------------------------------------------------------------------------
# You and your tokens


@extend_schema(tags=["account"], responses=s.MeSerializer)
class MeView(APIView):
    """Who the request authenticates as, and what the quotas leave."""

    permission_classes = (permissions.IsAuthenticated,)

    def get(self, request: Request) -> Response:
        return Response({"username": request.user.get_username(), "quotas": user_quotas(user=request.user)})


@extend_schema_view(
    list=extend_schema(summary="Your API tokens (never their keys)"),
    create=extend_schema(
        summary="Make a token; its key is in this answer only",
        request=s.TokenSerializer,
        responses={201: s.NewTokenSerializer},
        examples=[examples.NEW_TOKEN],
    ),
    destroy=extend_schema(summary="Revoke a token: it stops working at once", responses={204: None}),
)
@extend_schema(tags=["account"])
class TokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.TokenSerializer
    permission_classes = (permissions.IsAuthenticated,)

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return api_tokens(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.TokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        made = api_token_create(user=request.user, name=serializer.validated_data["name"])
        return Response(s.NewTokenSerializer(made.token).data | {"token": made.key}, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        api_token_revoke(token=instance)


@extend_schema(
    tags=["account"],
    summary="Make a token with a user name and password (what `footprint login` does)",
    request=s.PasswordTokenSerializer,
    responses={201: s.NewTokenSerializer},
)
@method_decorator(ratelimit(key=client_address, rate=login_rate, method="POST", block=True), name="post")
class PasswordTokenView(APIView):
    permission_classes = (permissions.AllowAny,)
    authentication_classes: tuple = ()

    def post(self, request: Request) -> Response:
        serializer = s.PasswordTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None:
            raise ApiError("the user name or the password is wrong", code="not_authenticated", status_code=401)
        made = api_token_create(user=user, name=data["name"])
        return Response(s.NewTokenSerializer(made.token).data | {"token": made.key}, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------
# Benchmarks, hardware classes, tracks

BENCHMARK_FILES = {"train.npz": "train.npz", "test.npz": "test.npz", "reference-model.pt": "reference/model.pt"}


@extend_schema(tags=["benchmarks"])
class BenchmarkViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.BenchmarkSerializer
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    queryset = Benchmark.objects.prefetch_related("tracks").order_by("slug")

    @extend_schema(
        summary="A file of the benchmark: train.npz, reference-model.pt; test.npz for public data only",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, url_path=r"files/(?P<name>train\.npz|test\.npz|reference-model\.pt)")
    def files(self, request: Request, slug: str, name: str) -> HttpResponse:
        benchmark = self.get_object()
        if name == "test.npz" and not benchmark.data_public:
            raise ApiError(
                f"the test split of {benchmark.slug} is hidden: it never leaves the runners, so that no "
                "one can train on its labels",
                code="hidden",
                status_code=403,
            )
        path = storage_path(f"{benchmark.data_dir.rstrip('/')}/{BENCHMARK_FILES[name]}")
        if not path.is_file():
            raise ApiError(f"the benchmark's {name} is not in the storage", code="not_found", status_code=404)
        return FileResponse(open(path, "rb"), as_attachment=True, filename=f"{benchmark.slug}-{name}")


@extend_schema(tags=["benchmarks"])
class HardwareClassViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.HardwareClassSerializer
    lookup_field = "name"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    queryset = HardwareClass.objects.order_by("name")


@extend_schema(tags=["benchmarks"])
class TrackViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Budget tracks, smallest first within a benchmark (?benchmark=<slug>)."""

    serializer_class = s.TrackSerializer
    queryset = Track.objects.select_related("benchmark").order_by("benchmark__slug", "order", "slug", "id")
    filterset_class = TrackFilter


# ---------------------------------------------------------------------------------------
# Submissions and uploads


@extend_schema_view(
    list=extend_schema(summary="Submissions you may see: yours, and published ones (?mine=true: yours)"),
    create=extend_schema(
        summary="Submit: a complete upload, a registry reference pinned by digest, or a small tarball",
        request={
            "application/json": s.SubmissionCreateSerializer,
            "multipart/form-data": s.SubmissionCreateSerializer,
        },
        responses={201: s.SubmissionSerializer},
        examples=[examples.SUBMIT_UPLOAD, examples.SUBMIT_REFERENCE, examples.SUBMISSION],
    ),
)
@extend_schema(tags=["submissions"])
class SubmissionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.SubmissionSerializer
    filterset_class = SubmissionFilter
    permission_classes = (permissions.IsAuthenticatedOrReadOnly, IsOwnerToChange)
    owner_actions = ()
    parser_classes = (JSONParser, MultiPartParser, FormParser)

    def get_queryset(self) -> QuerySet[Submission]:
        return api_submissions(viewer=self.request.user).order_by("-created", "-id")

    def get_throttles(self) -> list[Any]:
        throttles = super().get_throttles()
        return [*throttles, UploadThrottle()] if self.action == "create" else throttles

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Before the body is read: a full quota would refuse a multipart tarball at its end.
        quota_precheck(user=request.user)
        if request.content_type.startswith("multipart/"):
            upload_count(request)
        serializer = s.SubmissionCreateSerializer(data=request.data, context={"request": request})
        rejection = upload_rejection(request._request)
        if rejection:
            raise ApiError(rejection, code="too_large", status_code=413)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        draft = SubmissionDraft(
            owner=request.user,
            benchmark=data["benchmark"],
            name=data["name"],
            description=data.get("description", ""),
            division=data["division"],
            hardware_classes=data.get("hardware_classes") or None,
            paper=data.get("paper"),
        )
        try:
            if data.get("upload"):
                submission = submission_create_from_upload(draft=draft, upload=data["upload"])
            elif data.get("image_reference"):
                submission = submission_create_from_reference(draft=draft, reference=data["image_reference"])
            else:
                submission = submission_create_from_file(draft=draft, uploaded=data["tarball"])
        except UploadRefused as exc:
            raise _refused(exc) from None
        except InvalidImageReference as exc:
            raise ApiError(exc.reason, code="invalid_image_reference") from None
        submission = self.get_queryset().get(pk=submission.pk)
        return Response(s.SubmissionSerializer(submission).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Publish: its results join the leaderboards", request=None, responses=s.SubmissionSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        return self._published(True)

    @extend_schema(
        summary="Withdraw: make it private again (off the leaderboards)", request=None, responses=s.SubmissionSerializer
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        return self._published(False)

    def _published(self, published: bool) -> Response:
        submission = self.get_object()
        submission_set_published(submission=submission, published=published)
        return Response(s.SubmissionSerializer(submission).data)


@extend_schema_view(
    create=extend_schema(
        summary="Begin an upload in pieces: declare its size (and sha256)",
        request=s.UploadBeginSerializer,
        responses={201: s.UploadSerializer},
        examples=[examples.UPLOAD_BEGIN],
    ),
    retrieve=extend_schema(summary="Where an upload stands (also in the Upload-Offset header; HEAD works)"),
    partial_update=extend_schema(
        summary="Append a piece at Upload-Offset",
        parameters=[
            OpenApiParameter(
                "Upload-Offset",
                int,
                OpenApiParameter.HEADER,
                required=True,
                description="the upload's offset: where this piece starts",
            )
        ],
        request={"application/offset+octet-stream": OpenApiTypes.BINARY},
        responses={200: s.UploadSerializer},
    ),
)
@extend_schema(tags=["submissions"])
class UploadViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """An image tarball in pieces, for big images and broken connections: POST its size, PATCH
    pieces with Upload-Offset (a broken piece keeps what arrived; HEAD says where to go on),
    then POST /submissions/ with `upload`."""

    serializer_class = s.UploadSerializer
    permission_classes = (permissions.IsAuthenticated,)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[TarballUpload]:
        if getattr(self, "swagger_fake_view", False):
            return TarballUpload.objects.none()
        return TarballUpload.objects.filter(owner=self.request.user).order_by("-created", "-id")

    def get_parsers(self) -> list[Any]:
        if self.request is not None and self.request.method == "PATCH":
            return [OffsetOctetStreamParser()]
        return [JSONParser()]

    def get_throttles(self) -> list[Any]:
        throttles = super().get_throttles()
        return [*throttles, UploadThrottle()] if self.action == "create" else throttles

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload_count(request)
        serializer = s.UploadBeginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            upload = tarball_upload_begin(
                owner=request.user,
                size_bytes=serializer.validated_data["size_bytes"],
                sha256=serializer.validated_data.get("sha256", ""),
            )
        except UploadRefused as exc:
            raise _refused(exc) from None
        return self._answer(upload, status.HTTP_201_CREATED)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(self.get_object())

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = self.get_object()
        if request.content_type.split(";")[0].strip() != OffsetOctetStreamParser.media_type:
            raise ApiError(
                f"send the piece as {OffsetOctetStreamParser.media_type}",
                code="unsupported_media_type",
                status_code=415,
            )
        try:
            offset = int(request.headers.get("Upload-Offset", ""))
        except ValueError:
            raise ApiError("give the piece's start in the Upload-Offset header", code="invalid") from None
        try:
            upload = tarball_upload_append(upload=upload, offset=offset, stream=request.stream or _Empty())
        except UploadRefused as exc:
            raise _refused(exc) from None
        return self._answer(upload)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    def _answer(self, upload: TarballUpload, code: int = status.HTTP_200_OK) -> Response:
        response = Response(s.UploadSerializer(upload).data, status=code)
        response["Upload-Offset"] = str(upload.offset_bytes)
        response["Upload-Length"] = str(upload.size_bytes)
        return response


class _Empty:
    def read(self, size: int = -1) -> bytes:
        return b""


# ---------------------------------------------------------------------------------------
# Runs


@extend_schema(tags=["runs"])
class RunViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.RunSerializer
    filterset_class = RunFilter
    permission_classes = (permissions.IsAuthenticatedOrReadOnly, IsOwnerToChange)
    owner_actions = ("job_tarball",)

    def get_queryset(self) -> QuerySet[Run]:
        return api_runs(viewer=self.request.user)

    @extend_schema(summary="The end of each phase's output", responses=s.RunLogsSerializer)
    @action(detail=True)
    def logs(self, request: Request, pk: str) -> Response:
        return Response(s.RunLogsSerializer.of(self.get_object()))

    @extend_schema(summary="Cancel a queued run", request=None, responses=s.RunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        try:
            run_cancel(run=run, by=request.user)
        except IllegalTransition as exc:
            raise ApiError(f"the run was not cancelled: {exc}", code="conflict", status_code=409) from None
        return Response(s.RunSerializer(self.get_queryset().get(pk=run.pk)).data)

    @extend_schema(
        summary="Run the submission again on this run's hardware class (within your quota)",
        request=None,
        responses={201: s.RunSerializer, 200: s.RunSerializer},
    )
    @action(detail=True, methods=["post"])
    def rerun(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        new_run, created = run_rerun(run=run, by=request.user)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.RunSerializer(self.get_queryset().get(pk=new_run.pk)).data, status=code)

    @extend_schema(
        summary="Every timed latency, by subject and repeat (the run page's latencies.json / .csv)",
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=True, renderer_classes=[JSONRenderer, CsvRenderer])
    def latencies(self, request: Request, pk: str, format: str | None = None) -> Any:
        run = self.get_object()
        try:
            series = run_latency_samples(run=run)
        except NoLatencySamples as exc:
            raise ApiError(str(exc), code="no_latencies", status_code=404) from None
        if request.accepted_renderer.format == "csv":
            rows = itertools.chain([LATENCY_COLUMNS], latency_rows(series=series))
            return _csv_response(rows, filename=f"footprint-run-{run.pk}-latencies.csv")
        return Response(latency_document(run=run, series=series))

    @extend_schema(
        summary="The job spec of this run, for `footprint reproduce` (files as API links)",
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True)
    def job(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        spec = job_spec_for_run(run)
        benchmark = run.submission.benchmark
        # No path of the platform's storage leaves it: the files are the API's to download.
        spec["benchmark"]["data_location"] = request.build_absolute_uri(
            reverse("api:benchmark-detail", args=[benchmark.slug]) + "files/"
        )
        spec["submission"].pop("image_location", None)
        if run.submission.tarball_path and submission_can_edit(request.user, run.submission):
            spec["submission"]["image_location"] = request.build_absolute_uri(
                reverse("api:run-job-tarball", args=[run.pk])
            )
        return Response(spec)

    @extend_schema(
        summary="The submission's image tarball (its owner only)",
        responses={(200, "application/x-tar"): OpenApiTypes.BINARY},
    )
    @action(detail=True, url_path="job/tarball")
    def job_tarball(self, request: Request, pk: str) -> HttpResponse:
        run = self.get_object()
        if not run.submission.tarball_path:
            raise ApiError(
                "this submission's image is in a registry: pull it from there", code="not_found", status_code=404
            )
        path = storage_path(run.submission.tarball_path)
        if not path.is_file():
            raise ApiError("the submission's tarball is not in the storage", code="not_found", status_code=404)
        return FileResponse(
            open(path, "rb"), as_attachment=True, filename=f"footprint-submission-{run.submission_id}.tar"
        )


# ---------------------------------------------------------------------------------------
# Results

RESULT_CSV_COLUMNS = (
    "result_id",
    "run_id",
    "submission_id",
    "method",
    "owner",
    "benchmark",
    "hardware_class",
    "division",
    "standing",
    "subject",
    "figure",
    "value",
    "unit",
    "label",
)
# Results read per query batch while a CSV streams.
CSV_BATCH = 500


@extend_schema(tags=["results"])
@extend_schema_view(
    list=extend_schema(
        summary="Results you may see, filtered, ordered by any figure",
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"], description="csv: one line per figure")],
        responses={(200, "application/json"): s.ResultSerializer(many=True), (200, "text/csv"): OpenApiTypes.STR},
        examples=[examples.RESULT],
    )
)
class ResultViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ResultSerializer
    filterset_class = ResultFilter
    renderer_classes = (JSONRenderer, CsvRenderer)

    def get_queryset(self) -> QuerySet[Result]:
        return api_results(viewer=self.request.user).order_by("-id")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        queryset = self.filter_queryset(self.get_queryset())
        if request.accepted_renderer.format == "csv":
            return _csv_response(self._csv(queryset), filename="footprint-results.csv")
        page = self.paginate_queryset(queryset)
        assert page is not None
        return self.get_paginated_response(self._serialized(page))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        result = self.get_object()
        if request.accepted_renderer.format == "csv":
            return _csv_response(self._csv_rows([result], header=True), filename=f"footprint-result-{result.pk}.csv")
        return Response(self._serialized([result])[0])

    def _serialized(self, results: list[Result]) -> Any:
        standings = result_standings(results=results)
        return s.ResultSerializer(results, many=True, context={"standings": standings, "request": self.request}).data

    def _csv(self, queryset: QuerySet[Result]) -> Iterator[list[Any]]:
        yield list(RESULT_CSV_COLUMNS)
        for start in itertools.count(0, CSV_BATCH):
            batch = list(queryset[start : start + CSV_BATCH])
            if not batch:
                return
            yield from self._csv_rows(batch, header=False)

    def _csv_rows(self, results: list[Result], *, header: bool) -> Iterator[list[Any]]:
        if header:
            yield list(RESULT_CSV_COLUMNS)
        standings = result_standings(results=results)
        for result in results:
            submission = result.run.submission
            head = [
                result.pk,
                result.run_id,
                submission.pk,
                csv_text(submission.name),
                csv_text(submission.owner.get_username()),
                submission.benchmark.slug,
                result.run.hardware_class.name,
                submission.division,
                str(standings[result.pk].standing),
            ]
            for figure in result.figures.all():
                yield [*head, figure.subject, figure.name, figure.value, figure.unit, figure.label]


# ---------------------------------------------------------------------------------------
# Leaderboards


@extend_schema(
    tags=["results"],
    summary="A leaderboard as the site shows it (same rows, same order; ?track=, ?sort=)",
    parameters=[
        OpenApiParameter("track", str, description="a budget track's slug (default: the board with every entry)"),
        OpenApiParameter("sort", str, description="rank (default), or a column: speedup, -latency_p50_us, ..."),
        OpenApiParameter("format", str, enum=["json", "csv"]),
    ],
    responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR},
    examples=[examples.LEADERBOARD],
)
class LeaderboardView(APIView):
    renderer_classes = (JSONRenderer, CsvRenderer)

    def get(self, request: Request, benchmark_slug: str, hardware_class_name: str, format: str | None = None) -> Any:
        benchmark = get_object_or_404(Benchmark, slug=benchmark_slug)
        hardware_class = get_object_or_404(HardwareClass, name=hardware_class_name)
        # The site's own reading of the query and its exports: one code path for the page, its
        # files and the API (leaderboard.views_query).
        tracked, query, _ = board_view(request.query_params, benchmark, hardware_class, page=False)
        if isinstance(tracked, UnknownTrack):
            raise ApiError(str(tracked), code="unknown_track", status_code=404)
        track = tracked.track.slug if tracked.track is not None else "all"
        if request.accepted_renderer.format == "csv":
            rows = list(csv_rows(tracked=tracked, query=query))
            return _csv_response(
                rows, filename=f"footprint-{benchmark.slug}-{hardware_class.name}-{track}-leaderboard.csv"
            )
        return Response(export_document(tracked=tracked, query=query))


# ---------------------------------------------------------------------------------------
# Papers and claims


class _PaperContext:
    request: Request

    def paper_context(self, papers: list[Paper]) -> dict[str, Any]:
        ids = [s.pk for paper in papers for s in paper.submissions.all()]
        return {
            "request": self.request,
            "visible_submission_ids": visible_submission_ids(viewer=self.request.user, ids=ids),
        }


def _quantity(check: Any) -> dict[str, Any]:
    quantity = check.quantity
    unit = "kWh" if quantity.key == "search_energy" else quantity.figure_unit
    name = quantity.figure_name
    return {
        "quantity": quantity.key,
        "status": str(check.status),
        "claimed": s.figure_dict(subject="submission", name=name, value=check.claimed, unit=unit, label="declared"),
        "measured": None
        if check.measured is None
        else s.figure_dict(subject="submission", name=name, value=check.measured, unit=unit, label=check.label or ""),
        "gap": check.gap,
        "tolerance": check.tolerance,
        "note": check.note,
    }


class IsPaperOwner(permissions.BasePermission):
    message = "only the paper's owner may change it or its claims"

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        paper = obj.paper if isinstance(obj, Claim) else obj
        return bool(request.user.is_authenticated and (paper.owner_id == request.user.pk or request.user.is_superuser))


@extend_schema(tags=["papers"])
@extend_schema_view(
    retrieve=extend_schema(responses=s.PaperCheckSerializer, summary="A paper, its claims and their status")
)
class PaperViewSet(
    _PaperContext,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.PaperSerializer
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    permission_classes = (permissions.IsAuthenticatedOrReadOnly, IsPaperOwner)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Paper]:
        return api_papers()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        return self.get_paginated_response(s.PaperSerializer(page, many=True, context=self.paper_context(page)).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        paper = self.get_object()
        check = paper_checks(papers=[paper], viewer=request.user)[0]
        context = self.paper_context([paper])
        visible = context["visible_submission_ids"]
        return Response(
            {
                "paper": s.PaperSerializer(paper, context=context).data,
                "status": str(check.status),
                "claims": [
                    {
                        "claim": s.ClaimSerializer(claim_check.claim, context=context).data,
                        "status": str(claim_check.status),
                        "reason": claim_check.reason,
                        "run": claim_check.run.pk
                        if claim_check.run is not None and claim_check.run.submission_id in visible
                        else None,
                        "quantities": [_quantity(q) for q in claim_check.quantities],
                    }
                    for claim_check in check.claims
                ],
            }
        )

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.save(owner=self.request.user)

    @extend_schema(summary="Claims of a paper", responses=s.ClaimSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=s.ClaimSerializer)
    def claims(self, request: Request, slug: str) -> Response:
        paper = self.get_object()
        claims = list(paper.claims.select_related("benchmark", "hardware_class").order_by("id"))
        return Response(s.ClaimSerializer(claims, many=True, context=self.paper_context([paper])).data)

    @extend_schema(summary="Add a claim to your paper", request=s.ClaimSerializer, responses={201: s.ClaimSerializer})
    @claims.mapping.post
    def claims_create(self, request: Request, slug: str) -> Response:
        paper = self.get_object()
        if not IsPaperOwner().has_object_permission(request, self, paper):
            raise ApiError(IsPaperOwner.message, code="permission_denied", status_code=403)
        serializer = s.ClaimSerializer(data=request.data, context={"request": request, "paper": paper})
        serializer.is_valid(raise_exception=True)
        claim = serializer.save(paper=paper)
        return Response(
            s.ClaimSerializer(claim, context=self.paper_context([paper])).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["papers"])
class ClaimViewSet(
    _PaperContext, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.ClaimSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly, IsPaperOwner)
    http_method_names = ["get", "patch", "delete", "head", "options"]
    queryset = Claim.objects.select_related("paper", "benchmark", "hardware_class").order_by("id")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.kwargs.get("pk") and not getattr(self, "swagger_fake_view", False):
            claim = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
            if claim is not None:
                context["paper"] = claim.paper
                context.update(self.paper_context([claim.paper]))
        return context


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def not_found(request: Request, *args: Any, **kwargs: Any) -> Response:
    raise ApiError(
        "no such endpoint; the API's endpoints are listed at /api/v1/docs/", code="not_found", status_code=404
    )
