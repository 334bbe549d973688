"""Footprint's Django project package: settings, URLs, the Celery app, WSGI/ASGI."""

import sys
from pathlib import Path

# `runners` lives at the repository root and the platform imports its contract modules
# (schema, broker). Entry points put platform/ on the path (manage.py, gunicorn --chdir,
# celery with PYTHONPATH=platform) but not always the root; every one imports this first.
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.append(_REPO_ROOT)

from footprint.celery import app as celery_app  # noqa: E402  (after the path fix above)

__all__ = ("celery_app",)
