"""footprint.client against the platform in this process (httpx's WSGI transport): an upload
whose connection breaks mid-piece resumes from the server's offset; the login file is 0600."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core import signals
from django.db import close_old_connections

from api.models import TarballUpload
from api.services import api_token_create
from footprint.client import ApiError, Client, Login, login_load, login_save
from tests.factories.tarballs import docker_save_tarball

pytestmark = pytest.mark.django_db


class BreaksOnce(httpx.BaseTransport):
    """Hands the server the first half of the first piece, then loses the connection."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.broken = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH" and not self.broken:
            self.broken = True
            body = request.read()
            half = httpx.Request(
                "PATCH",
                request.url,
                headers={**request.headers, "Content-Length": str(len(body) // 2)},
                content=body[: len(body) // 2],
            )
            self.inner.handle_request(half)
            raise httpx.WriteError("connection reset by peer")
        return self.inner.handle_request(request)


@pytest.fixture
def in_process(settings: Any) -> Any:
    settings.ALLOWED_HOSTS = ["testserver"]
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    from footprint.wsgi import application

    yield httpx.WSGITransport(app=application)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_an_upload_broken_mid_piece_resumes_from_the_servers_offset(
    in_process, owner, benchmark, hardware_class, storage_root, no_dispatch, tmp_path: Path, monkeypatch
):
    monkeypatch.setattr("footprint.client.time.sleep", lambda s: None)
    data, image_id = docker_save_tarball()
    tarball = tmp_path / "m.tar"
    tarball.write_bytes(data)
    transport = BreaksOnce(in_process)
    client = Client("http://testserver", api_token_create(user=owner, name="t").key, transport=transport)
    seen: list[int] = []
    upload = client.upload_tarball(
        tarball, piece_bytes=len(data) // 2 + 1, progress=lambda done, total: seen.append(done)
    )
    assert transport.broken and upload["complete"]
    # The half that arrived was kept, not sent again.
    assert seen[0] == (len(data) // 2 + 1) // 2
    assert (storage_root / TarballUpload.objects.get().path).read_bytes() == data
    submission = client.submit(name="resumed", benchmark=benchmark.slug, upload=upload["id"])
    assert submission["image_id"] == image_id


def test_api_errors_keep_their_code_message_and_fields(in_process, owner, benchmark):
    client = Client("http://testserver", api_token_create(user=owner, name="t").key, transport=in_process)
    with pytest.raises(ApiError) as raised:
        client.submit(name="x", benchmark="no-such-benchmark", upload=1)
    assert raised.value.status == 400 and raised.value.code == "invalid"
    assert set(raised.value.fields) >= {"benchmark", "upload"}


def test_the_login_is_saved_for_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("FOOTPRINT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("FOOTPRINT_URL", raising=False)
    monkeypatch.delenv("FOOTPRINT_TOKEN", raising=False)
    path = login_save(Login(url="http://x", token="fp_secret"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert login_load() == Login(url="http://x", token="fp_secret")
    monkeypatch.setenv("FOOTPRINT_TOKEN", "fp_other")
    assert login_load() == Login(url="http://x", token="fp_other")
