from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from benchmarks.credentials import runner_credential_create
from benchmarks.models import RunnerCredential
from submissions.claims import runner_credential_revoke
from submissions.models import Audit, Figure, Quota, Result, ResultInvalidation, Run, RunTransition, Submission
from submissions.services import ResultAlreadyInvalidated, result_invalidate


class RunInline(admin.TabularInline):
    model = Run
    fields = ("hardware_class", "state", "attempt", "failure_code", "created", "finished_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "benchmark", "division", "published", "created")
    list_filter = ("benchmark", "division", "published")
    search_fields = ("name", "owner__username", "image_id", "tarball_sha256")
    readonly_fields = ("image_id", "image_reference", "tarball_sha256", "tarball_path", "tarball_size_bytes", "created")
    raw_id_fields = ("owner",)
    inlines = (RunInline,)


class RunTransitionInline(admin.TabularInline):
    model = RunTransition
    fields = ("at", "from_state", "to_state", "attempt", "ignored", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "submission", "hardware_class", "state", "attempt", "failure_code", "updated")
    list_filter = ("state", "hardware_class")
    search_fields = ("submission__name", "runner_host")
    # State changes go through submissions.state (recorded transitions), never the admin.
    readonly_fields = tuple(f.name for f in Run._meta.fields)
    inlines = (RunTransitionInline,)


class _EvidenceInline:
    """Rows of a result shown as they were stored: nothing added, changed or deleted here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        return self.fields  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class FigureInline(_EvidenceInline, admin.TabularInline):
    model = Figure
    fields = ("subject", "name", "value", "unit", "label")


class AuditInline(_EvidenceInline, admin.TabularInline):
    model = Audit
    fields = ("name", "subject", "verdict", "figure", "value", "threshold", "unit", "sentence", "source")


class InvalidationInline(_EvidenceInline, admin.StackedInline):
    """Who invalidated the result, when and why; made by the invalidate action."""

    model = ResultInvalidation
    fields = ("by", "at", "reason")


class InvalidationForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        max_length=2000,
        help_text="Shown to readers next to the result, on the leaderboard, in the exports and on its run page.",
    )


@admin.register(Result)
class ResultAdmin(admin.ModelAdmin):
    list_display = ("run", "schema", "meets_accuracy_floor", "has_failed_audit", "is_invalidated", "created")
    list_select_related = ("invalidation",)
    readonly_fields = ("run", "schema", "document", "provenance", "meets_accuracy_floor", "flags", "created")
    inlines = (InvalidationInline, AuditInline, FigureInline)
    actions = ("invalidate",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Result]:
        return super().get_queryset(request).prefetch_related("audits")

    @admin.display(boolean=True, description="audit failed")
    def has_failed_audit(self, result: Result) -> bool:
        return any(audit.verdict == Audit.Verdict.FAILED for audit in result.audits.all())

    @admin.display(boolean=True, description="invalidated")
    def is_invalidated(self, result: Result) -> bool:
        return hasattr(result, "invalidation")

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # A result is evidence: an operator invalidates it (the action), nothing deletes it.
        return False

    @admin.action(
        description="Invalidate the selected results (kept, never ranked, with a reason)", permissions=["change"]
    )
    def invalidate(self, request: HttpRequest, queryset: QuerySet[Result]) -> TemplateResponse | None:
        form = InvalidationForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for result in queryset:
                try:
                    result_invalidate(result=result, by=request.user, reason=form.cleaned_data["reason"])
                    done += 1
                except ResultAlreadyInvalidated as exc:
                    self.message_user(request, f"{result}: {exc}; left as it was.", messages.WARNING)
            if done:
                self.message_user(request, f"Invalidated {done} result{'s' if done != 1 else ''}.", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/submissions/result/invalidate.html",
            {
                **self.admin_site.each_context(request),
                "title": "Invalidate results",
                "opts": self.model._meta,
                "results": queryset.select_related("run__submission", "run__hardware_class"),
                "form": form,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    """Operators set limits per user, per benchmark, or for one user on one benchmark."""

    list_display = ("__str__", "user", "benchmark", "submissions_per_day", "active_runs", "note")
    list_filter = ("benchmark",)
    search_fields = ("user__username", "benchmark__slug", "note")
    raw_id_fields = ("user",)


# ---------------------------------------------------------------------------------------
# Runner credentials: made and revoked here (the model is benchmarks'; revoking hands the
# runner's jobs to others, which is the submissions app's to do).


class RunnerCredentialAddForm(forms.ModelForm):
    class Meta:
        model = RunnerCredential
        fields = ("name", "hardware_class")


@admin.register(RunnerCredential)
class RunnerCredentialAdmin(admin.ModelAdmin):
    list_display = ("name", "hardware_class", "created", "last_used", "revoked_at")
    list_filter = ("hardware_class", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name",)
    readonly_fields = ("name", "hardware_class", "created", "created_by", "last_used", "revoked_at", "revoked_by")
    actions = ("revoke",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = RunnerCredentialAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        return ("name", "hardware_class") if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return  # nothing of a credential is edited; it is revoked
        issued = runner_credential_create(
            name=form.cleaned_data["name"], hardware_class=form.cleaned_data["hardware_class"], by=request.user
        )
        obj.pk = issued.credential.pk
        obj.refresh_from_db()
        messages.warning(
            request,
            f"The secret of the runner {obj.name}, shown this once (only its digest is kept): {issued.secret}  "
            "Give it to the runner host as FOOTPRINT_RUNNER_CREDENTIAL (docs/operator.md).",
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # revoked, never deleted: the tokens and runs it took keep naming it

    @admin.action(description="Revoke the selected credentials (their runners stop at once)")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        for credential in queryset:
            counts = runner_credential_revoke(credential=credential, by=request.user)
            messages.success(
                request,
                f"Revoked {credential.name}; {counts['requeued']} of its runs queued again for other runners"
                + (f", {counts['failed']} failed (lost too often)" if counts["failed"] else "")
                + ".",
            )
