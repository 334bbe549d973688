"""The submit form: the submissions app's upload form, plus what belongs to the apps above it
(the paper a method implements) and the run's choices (hardware classes, declared search)."""

from __future__ import annotations

from typing import Any

from django import forms

from benchmarks.models import HardwareClass
from papers.models import Paper
from submissions.forms import SubmissionUploadForm


class SubmitForm(SubmissionUploadForm):
    hardware_classes = forms.ModelMultipleChoiceField(
        label="Hardware classes",
        queryset=HardwareClass.objects.filter(active=True).order_by("name"),
        to_field_name="name",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="A run is queued on each class ticked; none ticked: every active class.",
    )
    paper = forms.ModelChoiceField(
        label="Paper",
        queryset=Paper.objects.order_by("title"),
        to_field_name="slug",
        required=False,
        empty_label="none",
        help_text="The paper whose method this implements, if it is listed: its claims are checked against the runs.",
    )
    search_device_type = forms.CharField(
        label="Declared search: devices",
        max_length=200,
        required=False,
        help_text="An off-platform search (hyper-parameters, architecture) Footprint cannot re-run: e.g. NVIDIA A100.",
    )
    search_device_count = forms.IntegerField(label="Declared search: how many devices", min_value=1, required=False)
    search_hours = forms.FloatField(label="Declared search: hours", min_value=0, required=False)
    search_energy_kwh = forms.FloatField(
        label="Declared search: energy (kWh)", min_value=0, required=False, help_text="Leave empty if not known."
    )
    search_trials = forms.IntegerField(label="Declared search: trials", min_value=0, required=False)

    field_order = [
        "name",
        "description",
        "benchmark",
        "division",
        "hardware_classes",
        "paper",
        "search_device_type",
        "search_device_count",
        "search_hours",
        "search_energy_kwh",
        "search_trials",
        "tarball",
    ]
    SEARCH_FIELDS = ("search_device_type", "search_device_count", "search_hours", "search_energy_kwh", "search_trials")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["hardware_classes"].initial = list(self.fields["hardware_classes"].queryset)
        # The file comes last: when the upload is stopped for its size, the fields sent
        # before it are there to re-render.
        self.order_fields(self.field_order)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        given = [name for name in self.SEARCH_FIELDS if cleaned.get(name) not in (None, "")]
        if given:
            for name in ("search_device_type", "search_device_count", "search_hours"):
                if cleaned.get(name) in (None, ""):
                    self.add_error(name, "A declared search needs its devices, how many and for how long.")
        return cleaned

    def declared_search(self) -> dict[str, Any] | None:
        """The declared search in method.json's `search` form, or None (a valid form only)."""
        data = self.cleaned_data
        if not data.get("search_device_type"):
            return None
        block: dict[str, Any] = {
            "device_type": data["search_device_type"],
            "device_count": data["search_device_count"],
            "hours": data["search_hours"],
            "note": "declared on the upload form",
        }
        if data.get("search_energy_kwh") is not None:
            block["energy_kwh"] = data["search_energy_kwh"]
        if data.get("search_trials") is not None:
            block["trials"] = data["search_trials"]
        return block
