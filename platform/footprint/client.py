"""A small Python client of Footprint's REST API (/api/v1/), for pipelines and the `footprint`
command. It speaks the documented API only and imports nothing of Django.

    from footprint.client import Client

    client = Client("https://footprint.example.org", token="fp_...")
    upload = client.upload_tarball("method.tar")
    submission = client.submit(name="90% pruning", benchmark="digits", upload=upload["id"])
    run = client.wait_for_run(submission["runs"][0]["id"])
    rows = client.results(benchmark="digits", order="-speedup")

Errors of the API (one shape: {"error": {"code", "message", "fields"}}) raise ApiError with
its status, code and message; a 429 carries `retry_after_s`.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

API_PREFIX = "/api/v1"
# Pieces of a resumable upload; a broken piece is sent again from the server's offset.
DEFAULT_PIECE_BYTES = 32 * 2**20
TERMINAL_STATES = frozenset({"succeeded", "failed", "cancelled"})
CONFIG_FILE = "config.json"


class ApiError(Exception):
    """An error answer of the API."""

    def __init__(
        self, status: int, code: str, message: str, *, fields: Any = None, retry_after_s: int | None = None
    ) -> None:
        super().__init__(f"{message} (HTTP {status}, {code})")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.retry_after_s = retry_after_s


def _error(response: httpx.Response) -> ApiError:
    retry = response.headers.get("Retry-After")
    retry_after_s = int(retry) if retry and retry.isdigit() else None
    try:
        body = response.json()
        error = body["error"]
        return ApiError(
            response.status_code,
            str(error.get("code", "error")),
            str(error.get("message", "")),
            fields=error.get("fields"),
            retry_after_s=retry_after_s,
        )
    except (ValueError, KeyError, TypeError):
        return ApiError(response.status_code, "error", response.text[:500], retry_after_s=retry_after_s)


# ---------------------------------------------------------------------------------------
# Where the command keeps its login


def config_dir() -> Path:
    """$FOOTPRINT_CONFIG_DIR, else the user's config folder ($XDG_CONFIG_HOME or ~/.config)/footprint."""
    explicit = os.environ.get("FOOTPRINT_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "footprint"


@dataclass(frozen=True)
class Login:
    url: str
    token: str


def login_save(login: Login) -> Path:
    """Write the login to the config folder, readable by its owner only (0600)."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / CONFIG_FILE
    # Created with 0600 before anything is written: the token is never readable by others.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"url": login.url, "token": login.token}, handle)
    return path


def login_load() -> Login | None:
    """$FOOTPRINT_URL and $FOOTPRINT_TOKEN, else the saved login; None without either."""
    url, token = os.environ.get("FOOTPRINT_URL"), os.environ.get("FOOTPRINT_TOKEN")
    saved: dict[str, Any] = {}
    path = config_dir() / CONFIG_FILE
    if path.is_file():
        try:
            saved = json.loads(path.read_text())
        except ValueError:
            saved = {}
    url, token = url or saved.get("url"), token or saved.get("token")
    return Login(url=url, token=token or "") if url else None


# ---------------------------------------------------------------------------------------
# The client


def sha256_of(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(2**20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Client:
    def __init__(
        self, url: str, token: str = "", *, timeout_s: float = 120.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout_s, transport=transport)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -----------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://", API_PREFIX)) else f"{API_PREFIX}/{path.lstrip('/')}"

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, self._url(path), **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=_params(params)).json()

    def post(self, path: str, json_body: Any = None) -> Any:
        return self.request("POST", path, json=json_body).json()

    def pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list, following `next`."""
        page = self.get(path, **params)
        while True:
            yield from page["results"]
            if not page.get("next"):
                return
            page = self.request("GET", page["next"]).json()

    def web_url(self, path: str) -> str:
        """An absolute address of a page (the API gives pages' paths as `web_url`)."""
        return f"{self.url}{path}"

    # -- account ------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        return self.get("me/")

    def token_with_password(self, *, username: str, password: str, name: str = "footprint login") -> dict[str, Any]:
        return self.post("auth/token/", {"username": username, "password": password, "name": name})

    # -- submitting ---------------------------------------------------------------------

    def upload_tarball(
        self,
        path: str | os.PathLike[str],
        *,
        piece_bytes: int = DEFAULT_PIECE_BYTES,
        progress: Callable[[int, int], None] | None = None,
        retries: int = 5,
    ) -> dict[str, Any]:
        """Upload an image tarball in pieces; a piece that breaks is resumed from the offset
        the server reports. Returns the complete upload (its `id` goes to `submit`)."""
        size = os.path.getsize(path)
        upload = self.post("uploads/", {"size_bytes": size, "sha256": sha256_of(path)})
        offset = upload["offset"]
        failures = 0
        with open(path, "rb") as handle:
            while offset < size:
                handle.seek(offset)
                piece = handle.read(piece_bytes)
                try:
                    answer = self.request(
                        "PATCH",
                        upload["url"],
                        content=piece,
                        headers={"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)},
                    )
                    upload = answer.json()
                    offset = upload["offset"]
                    failures = 0
                except (httpx.TransportError, ApiError) as exc:
                    if isinstance(exc, ApiError) and exc.code not in ("offset_mismatch", "upload_busy"):
                        raise
                    failures += 1
                    if failures > retries:
                        raise
                    time.sleep(min(2**failures, 30))
                    # Where the server got to: what arrived of the broken piece stays there.
                    offset = int(self.request("HEAD", upload["url"]).headers["Upload-Offset"])
                if progress is not None:
                    progress(offset, size)
        return upload

    def submit(
        self,
        *,
        name: str,
        benchmark: str,
        division: str = "standard",
        upload: int | None = None,
        image_reference: str | None = None,
        hardware_classes: list[str] | None = None,
        paper: str | None = None,
        description: str = "",
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "benchmark": benchmark, "division": division, "description": description}
        if upload is not None:
            body["upload"] = upload
        if image_reference:
            body["image_reference"] = image_reference
        if hardware_classes:
            body["hardware_classes"] = hardware_classes
        if paper:
            body["paper"] = paper
        return self.post("submissions/", body)

    # -- runs ---------------------------------------------------------------------------

    def run(self, run_id: int) -> dict[str, Any]:
        return self.get(f"runs/{run_id}/")

    def run_logs(self, run_id: int) -> dict[str, Any]:
        return self.get(f"runs/{run_id}/logs/")

    def run_job(self, run_id: int) -> dict[str, Any]:
        return self.get(f"runs/{run_id}/job/")

    def wait_for_run(
        self,
        run_id: int,
        *,
        poll_s: float = 5.0,
        timeout_s: float | None = None,
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll a run until it is succeeded, failed or cancelled; returns it then."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            run = self.run(run_id)
            if on_update is not None:
                on_update(run)
            if run["state"] in TERMINAL_STATES:
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} is still {run['state']} after {timeout_s} s")
            time.sleep(poll_s)

    # -- results ------------------------------------------------------------------------

    def result(self, result_id: int) -> dict[str, Any]:
        return self.get(f"results/{result_id}/")

    def results(self, **filters: Any) -> list[dict[str, Any]]:
        """Every result matching the filters (benchmark, hardware_class, track, division, owner,
        paper, flag, order, ...), all pages."""
        return list(self.pages("results/", **filters))

    def results_csv(self, **filters: Any) -> str:
        return self.request("GET", "results/", params=_params({**filters, "format": "csv"})).text

    def leaderboard(self, benchmark: str, hardware_class: str, **params: Any) -> dict[str, Any]:
        return self.get(f"leaderboards/{benchmark}/{hardware_class}/", **params)

    def leaderboard_csv(self, benchmark: str, hardware_class: str, **params: Any) -> str:
        path = f"leaderboards/{benchmark}/{hardware_class}/"
        return self.request("GET", path, params=_params({**params, "format": "csv"})).text

    def download(self, url: str, target: str | os.PathLike[str]) -> Path:
        """Stream a file of the API (benchmark files, your tarball) to `target`."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.http.stream("GET", self._url(url)) as response:
            if response.status_code >= 400:
                response.read()
                raise _error(response)
            with open(target, "wb") as handle:
                for chunk in response.iter_bytes(2**20):
                    handle.write(chunk)
        return target


def _params(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}
