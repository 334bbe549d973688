"""Filters of the API's lists (django-filter): each parameter is declared, typed and documented
in the OpenAPI schema; an invalid value is a 400 in the API's error shape."""

from __future__ import annotations

import re

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from rest_framework.exceptions import ValidationError

from api.selectors import results_in_track, results_ordered_by_figure
from benchmarks.models import Benchmark
from budgets.models import Track
from submissions.models import Result, Run, Submission

FIGURE_ORDER_RE = r"^-?([a-z]+\.)?[a-z0-9_]{1,64}$"


class TrackFilter(filters.FilterSet):
    benchmark = filters.CharFilter(field_name="benchmark__slug", help_text="a benchmark's slug")

    class Meta:
        model = Track
        fields = ("benchmark",)


class SubmissionFilter(filters.FilterSet):
    benchmark = filters.CharFilter(field_name="benchmark__slug", help_text="a benchmark's slug")
    owner = filters.CharFilter(field_name="owner__username", help_text="a user name")
    mine = filters.BooleanFilter(method="filter_mine", help_text="only your own submissions")
    published = filters.BooleanFilter()
    division = filters.ChoiceFilter(choices=Submission.Division.choices)

    class Meta:
        model = Submission
        fields = ("benchmark", "owner", "mine", "published", "division")

    def filter_mine(self, queryset: QuerySet[Submission], name: str, value: bool | None) -> QuerySet[Submission]:
        user = self.request.user if self.request is not None else None
        if not value:
            return queryset
        if user is None or not user.is_authenticated:
            return queryset.none()
        return queryset.filter(owner_id=user.pk)


class RunFilter(filters.FilterSet):
    submission = filters.NumberFilter(field_name="submission_id")
    benchmark = filters.CharFilter(field_name="submission__benchmark__slug")
    hardware_class = filters.CharFilter(field_name="hardware_class__name")
    state = filters.ChoiceFilter(choices=Run.State.choices)

    class Meta:
        model = Run
        fields = ("submission", "benchmark", "hardware_class", "state")


class ResultFilter(filters.FilterSet):
    benchmark = filters.CharFilter(field_name="run__submission__benchmark__slug", help_text="a benchmark's slug")
    hardware_class = filters.CharFilter(field_name="run__hardware_class__name", help_text="a hardware class's name")
    division = filters.ChoiceFilter(field_name="run__submission__division", choices=Submission.Division.choices)
    owner = filters.CharFilter(field_name="run__submission__owner__username", help_text="a user name")
    submission = filters.NumberFilter(field_name="run__submission_id")
    paper = filters.CharFilter(field_name="run__submission__papers__slug", help_text="a paper's slug")
    flag = filters.ChoiceFilter(
        method="filter_flag",
        choices=[(f, f) for f in ("unstable", "predictions_differ", "cache_suspected")],
        help_text="results that carry this flag",
    )
    meets_accuracy_floor = filters.BooleanFilter()
    track = filters.CharFilter(
        method="filter_track", help_text="a budget track's slug: results whose search cost fits it (needs benchmark)"
    )
    order = filters.CharFilter(
        method="filter_order",
        help_text="a figure to order by: [-][subject.]name, e.g. -speedup, latency_p50, reference.latency_p50; "
        "also -id (the default: newest first) and id",
    )

    class Meta:
        model = Result
        fields = (
            "benchmark",
            "hardware_class",
            "division",
            "owner",
            "submission",
            "paper",
            "flag",
            "meets_accuracy_floor",
            "track",
            "order",
        )

    def filter_queryset(self, queryset: QuerySet[Result]) -> QuerySet[Result]:
        # The track needs the other filters applied first, and the order comes last.
        data = self.form.cleaned_data
        track, order = data.get("track"), data.get("order")
        queryset = super().filter_queryset(queryset)
        if track:
            benchmark = Benchmark.objects.filter(slug=data.get("benchmark") or "").first()
            if benchmark is None:
                raise ValidationError({"track": ["a track belongs to a benchmark: give benchmark=<slug> too"]})
            kept = results_in_track(queryset, benchmark=benchmark, track_slug=track)
            if kept is None:
                raise ValidationError({"track": [f"the benchmark {benchmark.slug} has no track {track!r}"]})
            queryset = kept
        if order in (None, "", "-id"):
            return queryset.order_by("-id")
        if order == "id":
            return queryset.order_by("id")
        if not re.fullmatch(FIGURE_ORDER_RE, order):
            raise ValidationError({"order": ["order by a figure: [-][subject.]name, e.g. -speedup"]})
        return results_ordered_by_figure(queryset, order=order)

    def filter_flag(self, queryset: QuerySet[Result], name: str, value: str) -> QuerySet[Result]:
        # The flags are a JSON list of names; matching the quoted name works on every database.
        return queryset.filter(flags__icontains=f'"{value}"') if value else queryset

    def filter_track(self, queryset: QuerySet[Result], name: str, value: str) -> QuerySet[Result]:
        return queryset  # applied in filter_queryset, after the others

    def filter_order(self, queryset: QuerySet[Result], name: str, value: str) -> QuerySet[Result]:
        return queryset  # applied in filter_queryset, last
