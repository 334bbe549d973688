from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Installed for its template filters (`{% load footprint_format %}`); it has no models."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"
