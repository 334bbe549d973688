"""Broker settings shared by the platform's Celery app and the runners' app.

Both sides must agree on the transport, so the one function lives here (the platform may
import runners' contract modules; runners import nothing of the platform's).
"""

from __future__ import annotations

import os
from pathlib import Path

# Longer than the longest job (compress + three serve phases at their limits): a broker
# that redelivers an unacknowledged message sooner runs the same job twice in parallel.
LONGEST_JOB_S = 6 * 3600


def celery_broker_config(url: str | None = None, *, broker_dir: Path | None = None) -> dict:
    """Celery settings (lower-case names) for CELERY_BROKER_URL.

    Unset or `filesystem://` selects kombu's filesystem transport: no server to install,
    one folder shared by every process on this host (the embedded default of `make run`).
    """
    url = url if url is not None else os.environ.get("CELERY_BROKER_URL", "")
    if url in ("", "filesystem://", "filesystem:///"):
        root = broker_dir or Path(os.environ.get("FOOTPRINT_BROKER_DIR", "var/broker")).resolve()
        queue, processed, control = root / "queue", root / "processed", root / "control"
        for folder in (queue, processed, control):
            folder.mkdir(parents=True, exist_ok=True)
        return {
            "broker_url": "filesystem://",
            "broker_transport_options": {
                "data_folder_in": str(queue),
                "data_folder_out": str(queue),
                "processed_folder": str(processed),
                "control_folder": str(control),
                "store_processed": False,
            },
        }
    if url.startswith(("redis://", "rediss://")):
        return {
            "broker_url": url,
            "broker_transport_options": {"visibility_timeout": LONGEST_JOB_S},
        }
    if url.startswith(("amqp://", "amqps://", "pyamqp://")):
        # RabbitMQ's consumer_timeout must also exceed LONGEST_JOB_S (rabbitmq.conf).
        # Publisher confirms: a send returns once the broker has the message, so that a
        # runner removes a kept result only when it is safe (runners/outbox.py).
        return {"broker_url": url, "broker_transport_options": {"confirm_publish": True}}
    raise ValueError(f"CELERY_BROKER_URL={url!r}: expected filesystem://, amqp://... (RabbitMQ) or redis://...")


COMMON_CELERY_CONFIG = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "task_serializer": "json",
    "accept_content": ["json"],
    "result_backend": None,
    "task_ignore_result": True,
    "broker_connection_retry_on_startup": True,
}

PLATFORM_QUEUE = "platform"


def runner_queue(hardware_class: str) -> str:
    return f"runner.{hardware_class}"
