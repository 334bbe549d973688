"""Submissions by registry reference, against Debian's `docker-registry` (distribution) that
this test starts on 127.0.0.1: the manifest is read and checked against the digest, the
config digest becomes the image id, and a digest that does not match is refused."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import socket
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from runners.schema import validate_job
from submissions.models import Run, Submission
from submissions.registry import InvalidImageReference, registry_image_check
from submissions.services import job_spec_for_run
from tests.fixtures.leftovers import subprocess_env

pytestmark = pytest.mark.django_db

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def registry(tmp_path: Path, settings: Any) -> Any:
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.fail("this test needs Debian's docker-registry: apt-get install -y docker-registry", pytrace=False)
    port = _free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path / 'blobs'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    log = open(tmp_path / "registry.log", "wb")
    process = subprocess.Popen([binary, "serve", str(config)], env=subprocess_env(), stdout=log, stderr=log)
    host = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://{host}/v2/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"docker-registry did not start:\n{(tmp_path / 'registry.log').read_text()[-2000:]}")
            time.sleep(0.2)
        settings.FOOTPRINT_REGISTRY_HOSTS = [host]
        settings.FOOTPRINT_REGISTRY_INSECURE_HOSTS = [host]
        yield host
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _blob(host: str, name: str, data: bytes) -> str:
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    start = httpx.post(f"http://{host}/v2/{name}/blobs/uploads/")
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    location = location if location.startswith("http") else f"http://{host}{location}"
    # The location carries the upload's state in its query, signed: the digest is appended to it.
    url = f"{location}{'&' if '?' in location else '?'}digest={digest}"
    done = httpx.put(url, content=data, headers={"Content-Type": "application/octet-stream"})
    assert done.status_code == 201, done.text
    return digest


def push_image(host: str, name: str) -> dict[str, str]:
    """Push a one-layer image as `docker push` would; its manifest and config digests."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as archive:
        text = b"hello from a registry\n"
        member = tarfile.TarInfo("hello.txt")
        member.size = len(text)
        archive.addfile(member, io.BytesIO(text))
    diff_id = f"sha256:{hashlib.sha256(layer.getvalue()).hexdigest()}"
    compressed = gzip.compress(layer.getvalue(), mtime=0)
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
    ).encode()
    config_digest = _blob(host, name, config)
    layer_digest = _blob(host, name, compressed)
    config_ref = {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config)}
    layer_ref = {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(compressed)}
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {**config_ref, "digest": config_digest},
            "layers": [{**layer_ref, "digest": layer_digest}],
        }
    ).encode()
    put = httpx.put(f"http://{host}/v2/{name}/manifests/v1", content=manifest, headers={"Content-Type": MANIFEST_TYPE})
    assert put.status_code == 201, put.text
    return {"manifest": put.headers["Docker-Content-Digest"], "config": config_digest}


def test_a_reference_pinned_by_digest_is_checked_and_recorded_for_the_runner(
    registry, owner_api, benchmark, hardware_class, no_dispatch, roomy_throttles
):
    pushed = push_image(registry, "lab/method")
    reference = f"{registry}/lab/method@{pushed['manifest']}"
    made = owner_api.post(
        "/api/v1/submissions/",
        {"name": "from a registry", "benchmark": benchmark.slug, "division": "own", "image_reference": reference},
        format="json",
    )
    assert made.status_code == 201, made.json()
    submission = Submission.objects.get(pk=made.json()["id"])
    assert (submission.image_reference, submission.image_id) == (reference, pushed["config"])
    assert (submission.tarball_path, submission.tarball_size_bytes) == ("", None)
    spec = validate_job(job_spec_for_run(Run.objects.get(submission=submission)))
    assert spec["submission"] == {
        "id": submission.pk,
        "division": "own",
        "image_id": pushed["config"],
        "image_reference": reference,
    }


def test_a_digest_the_registry_does_not_serve_is_refused(
    registry, owner_api, benchmark, hardware_class, roomy_throttles
):
    pushed = push_image(registry, "lab/method")
    # Nothing at all under the digest; a blob that is no manifest (distribution answers 500).
    for digest, words in (("sha256:" + "0" * 64, "has no manifest"), (pushed["config"], "answered HTTP 500")):
        answer = owner_api.post(
            "/api/v1/submissions/",
            {"name": "x", "benchmark": benchmark.slug, "image_reference": f"{registry}/lab/method@{digest}"},
            format="json",
        )
        assert answer.status_code == 400, answer.json()
        assert answer.json()["error"]["code"] == "invalid_image_reference"
        assert words in answer.json()["error"]["message"] and digest in answer.json()["error"]["message"]
    assert not Submission.objects.exists()


def test_a_manifest_that_does_not_hash_to_its_digest_is_refused(registry):
    pushed = push_image(registry, "lab/method")
    real = httpx.HTTPTransport()

    def tampered(request: httpx.Request) -> httpx.Response:
        answer = real.handle_request(request)
        answer.read()
        if "/manifests/" in request.url.path:
            # A registry (or a man in the middle) serving other bytes than the digest names.
            body = json.loads(answer.content)
            body["layers"] = body["layers"] * 2
            return httpx.Response(200, headers={"Content-Type": MANIFEST_TYPE}, content=json.dumps(body).encode())
        return answer

    with pytest.raises(InvalidImageReference) as refused:
        registry_image_check(f"{registry}/lab/method@{pushed['manifest']}", transport=httpx.MockTransport(tampered))
    assert "the digest does not match" in refused.value.reason
    # The same reference through the registry as it is passes.
    assert registry_image_check(f"{registry}/lab/method@{pushed['manifest']}").image_id == pushed["config"]


def test_references_that_are_not_pinned_or_name_another_registry_are_refused(registry, settings):
    with pytest.raises(InvalidImageReference, match="pinned by digest"):
        registry_image_check(f"{registry}/lab/method:latest")
    with pytest.raises(InvalidImageReference, match="does not pull from evil.example"):
        registry_image_check("evil.example/lab/method@sha256:" + "1" * 64)


def test_the_job_spec_names_the_image_by_tarball_or_by_reference_never_by_neither(
    owner, benchmark, hardware_class, storage_root
):
    from runners.schema import SchemaError
    from tests.factories.rows import make_submission

    run = Run.objects.create(
        submission=make_submission(owner=owner, benchmark=benchmark), hardware_class=hardware_class
    )
    spec = job_spec_for_run(run)
    assert set(spec["submission"]) == {"id", "division", "image_id", "image_location", "tarball_sha256"}
    validate_job(spec)
    del spec["submission"]["image_location"], spec["submission"]["tarball_sha256"]
    with pytest.raises(SchemaError):
        validate_job(spec)
    spec["submission"]["image_reference"] = "ghcr.io/lab/m:latest"  # not pinned
    with pytest.raises(SchemaError):
        validate_job(spec)
