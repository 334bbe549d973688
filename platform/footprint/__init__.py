"""Footprint's Django project package: settings, URLs, the Celery app, WSGI/ASGI, and the
clients that need none of them: the Python client (footprint.client) and the command
`footprint` (footprint.cli).

Importing this package imports nothing of Django or Celery, so that the clients work
without settings. The Celery app is loaded where it is needed: by every Django process at
start-up (footprint.apps.FootprintConfig.ready, so that `@shared_task` binds to it), by
`celery -A footprint` (Celery finds footprint.celery:app), and on first use of
`footprint.celery_app`.
"""

import sys
from pathlib import Path
from typing import Any

# `runners` lives at the repository root and the platform imports its contract modules
# (schema, broker). Entry points put platform/ on the path (manage.py, gunicorn --chdir,
# celery with PYTHONPATH=platform) but not always the root; every one imports this first.
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.append(_REPO_ROOT)

__all__ = ("celery_app",)


def __getattr__(name: str) -> Any:
    # PEP 562: `footprint.celery_app` imports the Celery app (and Django's settings) only
    # when someone asks for it; `celery -A footprint` looks up `app` and `celery` first,
    # which stay AttributeErrors, and then imports footprint.celery.
    if name == "celery_app":
        from footprint.celery import app

        return app
    raise AttributeError(f"module 'footprint' has no attribute {name!r}")
