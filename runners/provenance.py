"""Provenance: the runner host, the job as it was given, and when it ran."""

from __future__ import annotations

import os
import platform
import socket
import time
import uuid
from pathlib import Path

import numpy as np

from runners.footprint_sdk import CONTRACT
from runners.meters import nvml
from runners.sandbox.docker import DockerSandbox
from runners.spec import JobSpec


def host_fingerprint(sandbox: DockerSandbox) -> dict:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    ok, docker_detail = sandbox.ping()
    gpus, gpu_notes = nvml.gpu_fingerprint()
    return {
        "host": socket.gethostname(),
        "cpu_model": cpu_model,
        "cpu_count": os.cpu_count(),
        "memory_bytes": memory_bytes,
        "kernel": platform.release(),
        "docker": docker_detail if ok else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "gpus": gpus,
        "gpu_notes": gpu_notes,
    }


def job_provenance(spec: JobSpec, host: dict, *, execution: str | None = None) -> dict:
    document = spec.document
    return {
        "runner": host,
        # One execution of the job (the id its progress reports carry).
        "job_id": execution or uuid.uuid4().hex,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "contract": CONTRACT,
        "image_id": spec.submission.image_id,
        "tarball_sha256": spec.submission.tarball_sha256,
        "image_reference": spec.submission.image_reference,
        "runtime_image": spec.runtime_image,
        "division": spec.submission.division,
        "hardware_class": document["hardware_class"],
        "limits": document["limits"],
        "measurement": spec.measurement.as_document(),
    }
