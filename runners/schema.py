"""The versioned documents exchanged between the platform and the runners.

Both sides validate: the runner refuses a job spec it does not understand, the platform
refuses a result document that does not follow the schema (and fails the run saying so).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

JOB_SCHEMA = "footprint.job/1"
RESULT_SCHEMA = "footprint.result/1"
# method.json has no "schema" field of its own: the contract version fixes its schema.
METHOD_SCHEMA = "footprint.method/1"
_FILES = {JOB_SCHEMA: "job-v1.json", RESULT_SCHEMA: "result-v1.json", METHOD_SCHEMA: "method-v1.json"}


class SchemaError(ValueError):
    """A document does not follow its schema; the message says where and why."""


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    path = Path(__file__).with_name("schemas") / _FILES[name]
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _validate(name: str, document: Any, *, tagged: bool = True) -> dict:
    if not isinstance(document, dict):
        raise SchemaError(f"{name}: expected a JSON object, got {type(document).__name__}")
    if tagged and document.get("schema") != name:
        raise SchemaError(f"expected schema {name!r}, got {document.get('schema')!r}")
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise SchemaError(f"{name} at {where}: {first.message}{more}")
    return document


def validate_job(spec: Any) -> dict:
    return _validate(JOB_SCHEMA, spec)


def validate_result(document: Any) -> dict:
    return _validate(RESULT_SCHEMA, document)


def validate_method(method: Any) -> dict:
    """method.json's fields that Footprint reads (name, search, trials); others are free."""
    return _validate(METHOD_SCHEMA, method, tagged=False)
