"""The project package as a Django app: its management commands, and the Celery app loaded
when Django starts."""

from __future__ import annotations

from django.apps import AppConfig


class FootprintConfig(AppConfig):
    name = "footprint"

    def ready(self) -> None:
        # `@shared_task` tasks send through the current Celery app: load (and so make
        # current) the configured one in every Django process, web and worker alike, now
        # that footprint/__init__.py no longer imports it.
        from footprint import celery  # noqa: F401
