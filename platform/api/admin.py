from django.contrib import admin

from api.models import ApiToken, TarballUpload


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens by name and prefix; their keys exist nowhere to show. An operator may revoke one."""

    list_display = ("name", "user", "prefix", "created", "last_used_at", "revoked_at")
    search_fields = ("name", "user__username", "prefix")
    readonly_fields = ("user", "name", "prefix", "key_sha256", "created", "last_used_at")


@admin.register(TarballUpload)
class TarballUploadAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "size_bytes", "offset_bytes", "created", "updated", "consumed_at")
    readonly_fields = (
        "owner",
        "size_bytes",
        "declared_sha256",
        "offset_bytes",
        "path",
        "created",
        "updated",
        "consumed_at",
    )
