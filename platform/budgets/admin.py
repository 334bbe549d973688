from django.contrib import admin

from budgets.models import Track


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
