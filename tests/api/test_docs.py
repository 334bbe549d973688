"""The API's documentation: the OpenAPI schema that `manage.py spectacular` writes without a
warning, and Swagger UI and Redoc served from the site's own static files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_manage_py_spectacular_writes_a_valid_schema_without_warnings(tmp_path: Path):
    target = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(target), "--validate", "--fail-on-warn")
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    operations = [op for path in schema["paths"].values() for op in path.values() if isinstance(op, dict)]
    # Every operation documents the one error shape.
    assert all(
        op["responses"]["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        for op in operations
    )
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["apiToken"]["description"],
    }
    submit = schema["paths"]["/api/v1/submissions/"]["post"]
    assert "examples" in submit["requestBody"]["content"]["application/json"]


@pytest.mark.parametrize(("url", "asset"), [("/api/v1/docs/", "swagger-ui-dist"), ("/api/v1/redoc/", "redoc")])
def test_swagger_ui_and_redoc_come_from_local_static_files(client, url, asset):
    page = client.get(url).content.decode()
    assert f"/static/drf_spectacular_sidecar/{asset}" in page
    assert "cdn." not in page and "unpkg" not in page
