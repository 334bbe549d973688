"""Submissions by registry reference: `host/name@sha256:<manifest digest>`, checked here, pulled
by the runner.

Before a reference is recorded the platform reads the manifest from the registry, checks
that its bytes hash to the digest in the reference (a digest that does not match is
refused: the reference would not name what the registry serves), reads the image config
it names, checks that one against its own digest and that it is a docker image config,
and keeps the config digest as the image id that the runner verifies after its pull. An
image index (several platforms) is resolved to its linux/amd64 image.

Only hosts of settings.FOOTPRINT_REGISTRY_HOSTS are asked (a reference is the submitter's
text: without the list, the platform would send requests wherever it is told); plain HTTP
only to those of FOOTPRINT_REGISTRY_INSECURE_HOSTS. Anonymous pulls, with the registry's
bearer token exchange (Docker's token protocol) when it asks for one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from core.formatting import bytes_human
from submissions.uploads import InvalidImageTarball, check_image_config, upload_max_bytes

REFERENCE_RE = re.compile(
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?)"
    r"/(?P<name>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"@(?P<digest>sha256:[0-9a-f]{64})"
)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
# A manifest or a config is a small JSON document; a bigger answer is not one.
MAX_DOCUMENT_BYTES = 4 * 2**20
TIMEOUT_S = 20.0


class InvalidImageReference(ValueError):
    """A reference that cannot be submitted; `reason` says why, for the submitter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RegistryImage:
    reference: str  # host/name@sha256:<digest>, as submitted
    image_id: str  # sha256:<config digest>: what the runner checks after pulling
    layers: int
    compressed_bytes: int


@dataclass(frozen=True)
class _Parsed:
    host: str
    name: str
    digest: str


def parse_image_reference(reference: str) -> _Parsed:
    match = REFERENCE_RE.fullmatch(reference.strip())
    if match is None:
        raise InvalidImageReference(
            f"{reference!r} is not a registry reference pinned by digest; give host/name@sha256:<64 hex digits>, "
            "e.g. ghcr.io/lab/method@sha256:… (`docker buildx imagetools inspect` or `docker inspect "
            "--format '{{index .RepoDigests 0}}'` prints it)"
        )
    return _Parsed(host=match["host"].lower(), name=match["name"], digest=match["digest"])


def _bearer_token(client: httpx.Client, challenge: str) -> str | None:
    """A token from the realm that a 401's `WWW-Authenticate: Bearer realm=...` names."""
    if not challenge.lower().startswith("bearer "):
        return None
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    realm = params.pop("realm", "")
    if not realm.startswith("https://"):
        return None
    answer = client.get(realm, params=params)
    if answer.status_code != 200:
        return None
    body = answer.json()
    token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
    return token if isinstance(token, str) else None


class _Registry:
    def __init__(self, parsed: _Parsed, transport: httpx.BaseTransport | None) -> None:
        insecure = {host.lower() for host in settings.FOOTPRINT_REGISTRY_INSECURE_HOSTS}
        scheme = "http" if parsed.host in insecure else "https"
        self.base = f"{scheme}://{parsed.host}/v2/{parsed.name}"
        self.parsed = parsed
        self.client = httpx.Client(timeout=TIMEOUT_S, transport=transport, follow_redirects=False)
        self.headers: dict[str, str] = {}

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, *, accept: tuple[str, ...] = ()) -> httpx.Response:
        headers = {**self.headers, **({"Accept": ", ".join(accept)} if accept else {})}
        url = f"{self.base}/{path}"
        try:
            answer = self.client.get(url, headers=headers)
            if answer.status_code == 401 and "Authorization" not in self.headers:
                token = _bearer_token(self.client, answer.headers.get("WWW-Authenticate", ""))
                if token:
                    self.headers["Authorization"] = f"Bearer {token}"
                    answer = self.client.get(url, headers={**headers, **self.headers})
            # Blobs are often served from elsewhere (a CDN): follow HTTPS redirects only.
            for _ in range(3):
                location = answer.headers.get("Location", "")
                if answer.status_code not in (301, 302, 303, 307, 308) or not location.startswith("https://"):
                    break
                answer = self.client.get(location)
        except httpx.HTTPError as exc:
            raise InvalidImageReference(f"the registry {self.parsed.host} did not answer: {exc}") from None
        return answer

    def document(self, path: str, digest: str, what: str, *, accept: tuple[str, ...] = ()) -> tuple[Any, str]:
        """A JSON document whose bytes must hash to `digest`, and its media type."""
        answer = self.get(path, accept=accept)
        if answer.status_code in (401, 403):
            raise InvalidImageReference(
                f"the registry {self.parsed.host} refused to serve the {what} of {self.parsed.name} without "
                f"credentials (HTTP {answer.status_code}); Footprint pulls public images only"
            )
        if answer.status_code == 404:
            raise InvalidImageReference(
                f"the registry {self.parsed.host} has no {what} {digest} in {self.parsed.name}: check the "
                "name and the digest (the digest of the pushed manifest, as `docker push` prints it)"
            )
        if answer.status_code != 200:
            raise InvalidImageReference(
                f"the registry {self.parsed.host} answered HTTP {answer.status_code} for the {what} {digest}"
            )
        body = answer.content
        if len(body) > MAX_DOCUMENT_BYTES:
            raise InvalidImageReference(f"the {what} is {bytes_human(len(body))}, larger than any image's")
        actual = f"sha256:{hashlib.sha256(body).hexdigest()}"
        if actual != digest:
            raise InvalidImageReference(
                f"the {what} that {self.parsed.host} serves for {digest} hashes to {actual}: the digest does not "
                "match, so the reference does not name what the registry serves; Footprint refuses it"
            )
        try:
            return json.loads(body), answer.headers.get("Content-Type", "").split(";")[0].strip()
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidImageReference(f"the {what} is not JSON: {exc}") from None


def _platform_manifest(index: dict[str, Any]) -> str:
    for entry in index.get("manifests") or []:
        platform = entry.get("platform") if isinstance(entry, dict) else None
        if isinstance(platform, dict) and (platform.get("os"), platform.get("architecture")) == ("linux", "amd64"):
            digest = entry.get("digest")
            if isinstance(digest, str) and re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
                return digest
    raise InvalidImageReference("the image index has no linux/amd64 image, the platform Footprint's runners use")


def registry_image_check(reference: str, *, transport: httpx.BaseTransport | None = None) -> RegistryImage:
    """Check a registry reference against its registry; InvalidImageReference says why not."""
    parsed = parse_image_reference(reference)
    allowed = {host.lower() for host in settings.FOOTPRINT_REGISTRY_HOSTS}
    if parsed.host not in allowed:
        raise InvalidImageReference(
            f"Footprint does not pull from {parsed.host}; the registries it pulls from are: "
            f"{', '.join(sorted(allowed)) or 'none (this platform takes uploaded tarballs only)'}"
        )
    registry = _Registry(parsed, transport)
    try:
        manifest, media_type = registry.document(
            f"manifests/{parsed.digest}", parsed.digest, "manifest", accept=MANIFEST_TYPES + INDEX_TYPES
        )
        if not isinstance(manifest, dict):
            raise InvalidImageReference("the manifest is not a JSON object")
        if media_type in INDEX_TYPES or manifest.get("mediaType") in INDEX_TYPES or "manifests" in manifest:
            chosen = _platform_manifest(manifest)
            manifest, _ = registry.document(f"manifests/{chosen}", chosen, "manifest", accept=MANIFEST_TYPES)
            if not isinstance(manifest, dict):
                raise InvalidImageReference("the linux/amd64 manifest is not a JSON object")
        config_ref = manifest.get("config")
        layers = manifest.get("layers")
        if not isinstance(config_ref, dict) or not isinstance(layers, list):
            raise InvalidImageReference("the manifest names no image config and layers: it is not an image manifest")
        config_digest = config_ref.get("digest")
        if not isinstance(config_digest, str) or not re.fullmatch(r"sha256:[0-9a-f]{64}", config_digest):
            raise InvalidImageReference("the manifest's config has no sha256 digest")
        compressed = sum(int(layer.get("size") or 0) for layer in layers if isinstance(layer, dict))
        if compressed > upload_max_bytes():
            raise InvalidImageReference(
                f"the image's layers are {bytes_human(compressed)}, more than the limit of "
                f"{bytes_human(upload_max_bytes())}; shrink the image"
            )
        config, _ = registry.document(f"blobs/{config_digest}", config_digest, "image config")
        try:
            diff_ids = check_image_config(config, config_digest)
        except InvalidImageTarball as exc:
            raise InvalidImageReference(exc.reason) from None
        if len(diff_ids) != len(layers):
            raise InvalidImageReference(
                f"the manifest lists {len(layers)} layers but the image config has {len(diff_ids)}"
            )
    finally:
        registry.close()
    return RegistryImage(
        reference=f"{parsed.host}/{parsed.name}@{parsed.digest}",
        image_id=config_digest,
        layers=len(layers),
        compressed_bytes=compressed,
    )
