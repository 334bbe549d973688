"""The leaderboard's filters, read from the URL (GET), so that a view can be shared."""

from __future__ import annotations

from typing import Any

from django import forms

from benchmarks.models import Benchmark, HardwareClass
from leaderboard.selectors import FLAG_FILTERS, BoardFilters
from papers.models import Paper
from submissions.models import Submission


class BoardFilterForm(forms.Form):
    """Hardware class, division, budget track, paper and flags of a board.

    Unknown values are dropped rather than refused: a link from an older page still opens.
    """

    hardware_class = forms.ChoiceField(label="Hardware class", required=False)
    track = forms.ChoiceField(label="Budget track", required=False)
    division = forms.ChoiceField(
        label="Division", required=False, choices=[("", "both divisions"), *Submission.Division.choices]
    )
    paper = forms.ChoiceField(label="Paper", required=False)
    flag = forms.MultipleChoiceField(
        label="Only entries flagged",
        required=False,
        choices=list(FLAG_FILTERS.items()),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, data: Any, *, benchmark: Benchmark, hardware_class: HardwareClass, tracks: list, **kwargs: Any):
        super().__init__(data, **kwargs)
        classes = HardwareClass.objects.filter(active=True).order_by("name").values_list("name", flat=True)
        names = list(dict.fromkeys([hardware_class.name, *classes]))
        self.fields["hardware_class"].choices = [(name, name) for name in sorted(names)]
        self.fields["hardware_class"].initial = hardware_class.name
        self.tracks = tracks
        self.fields["track"].choices = [("", "the default board"), *((t.slug, t.name) for t in tracks)]
        # Every paper: they are few, and narrowing them to the benchmark's would read its submissions.
        papers = Paper.objects.order_by("title").values_list("slug", "title")
        self.fields["paper"].choices = [("", "any paper or none"), *papers]

    def cleaned(self) -> dict[str, Any]:
        """The valid values; an invalid field counts as not given."""
        self.is_valid()
        values = {}
        for name in self.fields:
            if name in self.cleaned_data:
                values[name] = self.cleaned_data[name]
        if "flag" not in values and self.data:
            asked = self.data.getlist("flag") if hasattr(self.data, "getlist") else []
            values["flag"] = [flag for flag in asked if flag in FLAG_FILTERS]
        return values


def board_filters(values: dict[str, Any]) -> BoardFilters:
    return BoardFilters(
        division=values.get("division") or "",
        paper=values.get("paper") or "",
        flags=tuple(values.get("flag") or ()),
    )
