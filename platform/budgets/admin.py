from django.contrib import admin

from benchmarks.admin import BenchmarkAdmin
from benchmarks.models import Benchmark
from budgets.models import Track


class TrackInline(admin.TabularInline):
    """The benchmark's budget tracks, editable beside it (also under Budgets > Tracks)."""

    model = Track
    extra = 0
    fields = ("slug", "name", "order", "max_device_hours", "max_kwh")
    ordering = ("order", "slug")


# The benchmark's page shows its tracks; benchmarks sits below budgets and cannot name them,
# so this app registers the benchmark admin again with the inline (it loads after benchmarks).
admin.site.unregister(Benchmark)


@admin.register(Benchmark)
class BenchmarkWithTracksAdmin(BenchmarkAdmin):
    inlines = (*BenchmarkAdmin.inlines, TrackInline)


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ("benchmark", "slug", "name", "order", "max_device_hours", "max_kwh")
    list_display_links = ("slug",)
    # Operators set the limits from the list; an empty limit is no limit.
    list_editable = ("name", "order", "max_device_hours", "max_kwh")
    list_filter = ("benchmark",)
    search_fields = ("slug", "name", "benchmark__slug")
    list_select_related = ("benchmark",)
    ordering = ("benchmark__slug", "order", "slug")
