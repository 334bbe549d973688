from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Installed for its management commands (seed_demo, seed_digits, seed_demo_papers); no models."""

    name = "demo"
    default_auto_field = "django.db.models.BigAutoField"
