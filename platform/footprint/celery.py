"""The platform's Celery app: ingests what runners report and dispatches their jobs.

Started as `celery -A footprint worker -Q platform` (with platform/ on the Python path) and
`celery -A footprint beat` for the periodic sweep. Its configuration is the CELERY_* block
of footprint/settings.py; the settings shared with the runners come from runners/broker.py.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from kombu import Queue

from runners.broker import PLATFORM_QUEUE

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "footprint.settings")

app = Celery("footprint")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

JOB_TASK = "runners.execute_job"


def route_task(
    name: str, args: Any, kwargs: Any, options: dict[str, Any], task: Any = None, **_: Any
) -> dict[str, str] | None:
    """CELERY_TASK_ROUTES: the platform's own tasks go to the platform queue.

    A job must name its runner queue explicitly (dispatch sends it to
    `runner.<hardware class>`). Without one it would land on the default queue, where the
    platform worker cannot run it and drops it as an unregistered task: refuse instead.
    """
    if name == JOB_TASK:
        queue = options.get("queue")
        queue_name = queue.name if isinstance(queue, Queue) else queue
        if not isinstance(queue_name, str) or not queue_name.startswith("runner."):
            raise ValueError(f"{JOB_TASK} must be sent to a runner.<hardware class> queue, not {queue_name!r}")
        return None
    if name.startswith("footprint."):
        return {"queue": PLATFORM_QUEUE}
    return None
