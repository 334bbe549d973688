"""Hostile submissions run for real: the job fixtures of tests/jobs, and images built to attack."""

from __future__ import annotations

import pytest

from tests.integration.test_platform_and_runner import (  # noqa: F401  (the deployment's fixtures)
    database_url,
    deployment,
    processes,
    use_broker,
)
from tests.jobs.conftest import job_spec, run  # noqa: F401  (the same fixtures)

WRITE_METHOD = """#!/usr/bin/env python3
import shutil, footprint_sdk
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
footprint_sdk.write_method("hostile")
"""


@pytest.fixture
def hostile(build_test_image, job_spec):  # noqa: F811
    """hostile(compress=..., serve=None, dockerfile="", **spec_changes) -> job spec of such an image."""

    def make(*, compress: str = WRITE_METHOD, serve: str | None = None, dockerfile: str = "", limits=None, **kw):
        files = {"bin/compress": compress}
        if serve is not None:
            files["bin/serve"] = serve
        tag = build_test_image("COPY bin/ /usr/local/bin/\n" + dockerfile, files)
        return job_spec(tag, division="own" if serve is not None else "standard", limits=limits, **kw)

    return make
