from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.forms.models import BaseInlineFormSet

from papers.models import Claim, ClaimTolerance, Paper

CLAIM_FIELDS = (
    "method",
    "benchmark",
    "hardware_class",
    "submission",
    "claimed_accuracy",
    "claimed_speedup",
    "claimed_compression_ratio",
    "claimed_size_bytes",
    "claimed_search_kwh",
    "note",
)


class ClaimInlineFormSet(BaseInlineFormSet):
    """Checks each claim's submission against the paper's links as submitted in the same form.

    Claim.clean would otherwise read the links stored before this save, and refuse a
    submission linked in the same request (or accept one being unlinked).
    """

    def _construct_form(self, i: int, **kwargs: Any) -> Any:
        form = super()._construct_form(i, **kwargs)
        if self.is_bound:
            # The paper form always shows its `submissions` field; an empty selection is
            # simply absent from the POST data.
            form.instance.paper_submission_ids = {
                int(value) for value in self.data.getlist("submissions") if value.isdigit()
            }
        return form


class ClaimInline(admin.StackedInline):
    model = Claim
    formset = ClaimInlineFormSet
    fields = CLAIM_FIELDS
    raw_id_fields = ("submission",)
    extra = 0


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ("title", "authors", "venue", "year", "arxiv_id", "doi")
    search_fields = ("title", "authors", "slug", "arxiv_id", "doi")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("submissions",)
    # A URL typed without a scheme is taken as https (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = (ClaimInline,)


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = ("method", "paper", "benchmark", "hardware_class", "submission")
    list_filter = ("benchmark", "hardware_class")
    list_select_related = ("paper", "benchmark", "hardware_class", "submission")
    search_fields = ("method", "paper__title")
    fields = ("paper", *CLAIM_FIELDS)
    raw_id_fields = ("submission",)


@admin.register(ClaimTolerance)
class ClaimToleranceAdmin(admin.ModelAdmin):
    list_display = (
        "benchmark",
        "accuracy_abs",
        "speedup_rel",
        "compression_ratio_rel",
        "size_rel",
        "search_energy_rel",
    )
    list_select_related = ("benchmark",)
