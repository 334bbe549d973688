"""WSGI entry point (gunicorn footprint.wsgi, with platform/ on the Python path)."""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "footprint.settings")

application = get_wsgi_application()


def settle_heap() -> None:
    """Move everything loaded so far (Django, the apps, their modules) out of the garbage
    collector's sight: it lives as long as the process, and a full collection would walk it
    again and again. On the project's 2-vCPU VM a full collection of a started web process's
    ~130,000 objects took ~60 ms, and one fell inside about one leaderboard request in
    twenty built from the database, which made their p95 (perf/pages.py)."""
    gc.collect()
    gc.freeze()


settle_heap()
