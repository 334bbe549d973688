"""Schemathesis against the API's own OpenAPI schema, every operation, anonymous and with a
token: no server error, and every answer conforms to the schema (status code, content type,
headers, body). Bounded: FOOTPRINT_SCHEMATHESIS_EXAMPLES examples per operation and caller
(default 25); `make test` runs it with the rest of the suite."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from api.services import api_token_create
from papers.models import Claim
from tests.factories.figures import entry_figures
from tests.factories.rows import make_entry, make_paper, make_run, make_submission

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FOOTPRINT_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]


@schemathesis.serializer("application/offset+octet-stream")
def _piece(ctx: Any, value: Any) -> bytes:
    """A piece of an upload: the generated binary as it is."""
    return value if isinstance(value, bytes) else str(value).encode()


def _api_schema() -> Any:
    """The schema `manage.py spectacular` writes, and the WSGI application to call."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    from footprint.wsgi import application

    document = SchemaGenerator(api_version="1").get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    loaded.app = application
    return loaded


schema = _api_schema()


@pytest.fixture(autouse=True)
def rows(owner, stranger, benchmark, hardware_class, storage_root, no_dispatch, roomy_throttles, settings) -> Any:
    """Rows for the operations to find: a published entry, a private one, a paper with a claim."""
    make_entry(owner=owner, benchmark=benchmark, hardware_class=hardware_class, name="public")
    private = make_submission(owner=owner, benchmark=benchmark, published=False)
    make_run(submission=private, hardware_class=hardware_class, figures=entry_figures(), logs={"compress": "x"})
    paper = make_paper(owner=owner, slug="fuzzed")
    Claim.objects.create(paper=paper, benchmark=benchmark, hardware_class=hardware_class, method="m", claimed_speedup=2)
    settings.FOOTPRINT_UPLOAD_MAX_BYTES = 2**20
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    # The WSGI calls run inside this test's transaction: Django must not close the
    # connection at the end of each request, as a server does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms_to_the_schema_anonymously(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms_to_the_schema_with_a_token(case: Any, owner: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {_key(owner)}"}, checks=CHECKS)


_KEYS: dict[int, str] = {}


def _key(user: Any) -> str:
    # One token per user and test (the database is rolled back between tests).
    from api.models import ApiToken

    key = _KEYS.get(user.pk)
    if key is None or not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists():
        key = _KEYS[user.pk] = api_token_create(user=user, name="schemathesis").key
    return key
