from django.contrib import admin

from submissions.models import Figure, Result, Run, RunTransition, Submission


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
    readonly_fields = ("image_id", "tarball_sha256", "tarball_path", "tarball_size_bytes", "created")
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


class FigureInline(admin.TabularInline):
    model = Figure
    fields = ("subject", "name", "value", "unit", "label")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Result)
class ResultAdmin(admin.ModelAdmin):
    list_display = ("run", "schema", "meets_accuracy_floor", "created")
    readonly_fields = ("run", "schema", "document", "provenance", "meets_accuracy_floor", "created")
    inlines = (FigureInline,)
