"""/metrics: what an operator graphs and alerts on, in Prometheus's text format.

Read when scraped, from the database and the broker, so that every gunicorn worker answers
the same (no per-process counters to merge): jobs waiting in each runner queue, runs by state
and hardware class, and each runner's last heartbeat. Collected with prometheus_client.
The endpoint wants FOOTPRINT_METRICS_TOKEN as a bearer token (Prometheus's
`authorization: {credentials: ...}`); without that setting it answers 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from benchmarks.models import HardwareClass, RunnerStatus
from submissions.models import Run


class FootprintCollector(Collector):
    def __init__(self, *, queue_length=None) -> None:
        from submissions.services import broker_queue_length

        self.queue_length = queue_length or broker_queue_length

    def collect(self) -> Iterator[Metric]:
        classes = list(HardwareClass.objects.filter(active=True).values_list("name", flat=True))
        queue = GaugeMetricFamily(
            "footprint_queue_jobs",
            "Jobs waiting in a hardware class's runner queue, as the broker counts them",
            labels=["hardware_class", "queue"],
        )
        broker_up = GaugeMetricFamily("footprint_broker_up", "1 when the broker answered the queue-length reads")
        answered = True
        for name in classes:
            length = self.queue_length(f"runner.{name}")
            if length is None:
                answered = False
                continue
            queue.add_metric([name, f"runner.{name}"], length)
        broker_up.add_metric([], 1 if answered else 0)
        yield queue
        yield broker_up

        runs = GaugeMetricFamily(
            "footprint_runs", "Runs by state and hardware class", labels=["state", "hardware_class"]
        )
        counted = {
            (row["state"], row["hardware_class__name"]): row["n"]
            for row in Run.objects.values("state", "hardware_class__name").annotate(n=Count("id"))
        }
        names = sorted({name for _, name in counted} | set(classes))
        for state in Run.State.values:
            for name in names:
                runs.add_metric([state, name], counted.get((state, name), 0))
        yield runs

        heartbeat = GaugeMetricFamily(
            "footprint_runner_last_heartbeat_timestamp_seconds",
            "When each runner last reported (Unix time)",
            labels=["runner", "hardware_class", "state"],
        )
        docker = GaugeMetricFamily(
            "footprint_runner_docker_ok",
            "1 when the runner's Docker engine answered",
            labels=["runner", "hardware_class"],
        )
        for status in RunnerStatus.objects.only("runner_id", "hardware_class_name", "state", "docker_ok", "last_seen"):
            heartbeat.add_metric(
                [status.runner_id, status.hardware_class_name, status.state], status.last_seen.timestamp()
            )
            docker.add_metric([status.runner_id, status.hardware_class_name], 1 if status.docker_ok else 0)
        yield heartbeat
        yield docker


def metrics_text(*, queue_length=None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FootprintCollector(queue_length=queue_length))
    return generate_latest(registry)


def metrics_view(request: HttpRequest) -> HttpResponse:
    expected = settings.FOOTPRINT_METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected:
        return HttpResponse("set FOOTPRINT_METRICS_TOKEN to read the metrics\n", status=403, content_type="text/plain")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        return HttpResponse("a bearer token is needed\n", status=401, content_type="text/plain")
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
