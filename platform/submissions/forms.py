"""Forms of the submissions pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from benchmarks.models import Benchmark
from core.formatting import bytes_human
from submissions.models import Submission
from submissions.uploads import (
    ImageTarballInfo,
    InvalidImageTarball,
    inspect_image_tarball,
    upload_max_bytes,
)


class SubmissionUploadForm(forms.Form):
    """A new submission: what it is, where it runs, and its `docker save` tarball.

    The tarball field comes last on purpose: when the upload is stopped for its size, the
    fields the browser sent before it are still there to re-render.
    """

    name = forms.CharField(max_length=200, help_text="How the method appears on the leaderboard.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"maxlength": Submission.DESCRIPTION_MAX_CHARS, "rows": 5}),
        required=False,
        max_length=Submission.DESCRIPTION_MAX_CHARS,
        help_text=(
            f"What the method does, with a link to its paper or code if there is one; "
            f"at most {Submission.DESCRIPTION_MAX_CHARS:,} characters."
        ),
    )
    benchmark = forms.ModelChoiceField(
        queryset=Benchmark.objects.order_by("name"),
        to_field_name="slug",
        empty_label=None,
    )
    division = forms.ChoiceField(
        choices=Submission.Division.choices,
        initial=Submission.Division.STANDARD,
        widget=forms.RadioSelect,
        help_text=(
            "Standard: your compress writes model.pt (TorchScript) and Footprint serves it. "
            "Own: your image's serve command answers the queries."
        ),
    )
    tarball = forms.FileField(
        label="Image tarball",
        help_text="The file `docker save IMAGE -o method.tar` writes (one image).",
    )

    def __init__(self, *args: Any, upload_rejection: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.upload_rejection = upload_rejection
        self.image: ImageTarballInfo | None = None
        self.fields["tarball"].help_text += f" At most {bytes_human(upload_max_bytes())}."

    def clean_tarball(self) -> UploadedFile:
        if self.upload_rejection:
            # The upload handler stopped the file mid-stream; say why, not "required".
            raise forms.ValidationError(self.upload_rejection, code="too_large")
        uploaded: UploadedFile = self.cleaned_data["tarball"]
        path = getattr(uploaded, "temporary_file_path", None)
        if path is None:
            # Only the capped handler's files (on disk, hashed) can be inspected and moved.
            raise forms.ValidationError("the upload did not reach the server as a file; try again", code="not_on_disk")
        try:
            self.image = inspect_image_tarball(path(), sha256=getattr(uploaded, "sha256", None) or None)
        except InvalidImageTarball as exc:
            raise forms.ValidationError(exc.reason, code="invalid_tarball") from exc
        return uploaded

    def full_clean(self) -> None:
        super().full_clean()
        # A stopped upload leaves no file, so Django's "required" check would run first
        # and hide the reason: replace that message with the handler's.
        if self.upload_rejection and self.is_bound and "tarball" in self.errors:
            self.errors["tarball"] = self.error_class([self.upload_rejection])


class PublishForm(forms.Form):
    published = forms.BooleanField(required=False)
