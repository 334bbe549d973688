"""A deployment of docker/compose.yaml of a test's own: a project name, volumes, networks,
images with a test tag, a work folder; a small HTTP client that keeps cookies; and the
commands an operator types (compose, manage.py in the web container, the backup scripts)."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker" / "compose.yaml"


class CommandFailed(AssertionError):
    pass


def run(command: list[str], *, env: dict[str, str], timeout: float = 900, stdin: bytes | None = None, check=True):
    result = subprocess.run(command, env=env, cwd=REPO, capture_output=True, timeout=timeout, input=stdin)
    if check and result.returncode != 0:
        raise CommandFailed(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout.decode(errors='replace')[-3000:]}\n"
            f"{result.stderr.decode(errors='replace')[-3000:]}"
        )
    return result


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


@dataclass
class Browser:
    """HTTP to the published port, as the site's TLS proxy would forward it (X-Forwarded-Proto:
    https): the deployment's secure cookies and CSRF checks apply as in production."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, *, body=None, headers: dict[str, str] | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        sent = {"Host": "localhost", "X-Forwarded-Proto": "https", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            sent.setdefault("Origin", "https://localhost")
            sent.setdefault("Referer", "https://localhost/")
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        result = Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        connection.close()
        return result

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict[str, str]) -> Response:
        return self.request(
            "POST",
            path,
            body=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def csrf_token(self, path: str) -> str:
        page = self.get(path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, f"no CSRF token on {path} ({page.status}): {page.text[:500]}"
        return match.group(1)

    def log_in(self, username: str, password: str) -> None:
        token = self.csrf_token("/accounts/login/")
        answer = self.post_form(
            "/accounts/login/", {"csrfmiddlewaretoken": token, "username": username, "password": password}
        )
        assert answer.status == 302, f"login refused ({answer.status}): {answer.text[:1000]}"

    def upload(self, path: str, fields: dict[str, str], file_field: str, file_path: Path) -> Response:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{file_path.name}"\r\n'
            "Content-Type: application/x-tar\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        prefix = b"".join(parts) + head
        length = len(prefix) + file_path.stat().st_size + len(tail)

        def chunks():
            yield prefix
            with open(file_path, "rb") as f:
                yield from iter(lambda: f.read(1 << 20), b"")
            yield tail

        return self.request(
            "POST",
            path,
            body=chunks(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length)},
        )


@dataclass
class Stack:
    """One compose project on the engine DOCKER_HOST names."""

    project: str
    env_file: Path
    work_dir: Path
    port: int
    environ: dict[str, str]
    settings: dict[str, str]

    @classmethod
    def create(cls, folder: Path, *, port: int, image_tag: str, runtime_image_id: str, base_image: str) -> Stack:
        project = f"fpdeploy{uuid.uuid4().hex[:8]}"
        work_dir = folder / "runner-work"
        work_dir.mkdir(parents=True)
        settings = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "localhost,web",
            "DJANGO_CSRF_TRUSTED_ORIGINS": "https://localhost",
            "DJANGO_BEHIND_HTTPS_PROXY": "1",
            "DJANGO_SECURE_SSL_REDIRECT": "1",
            "DJANGO_SECURE_HSTS_SECONDS": "31536000",
            "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
            "DJANGO_SECURE_HSTS_PRELOAD": "1",
            "FOOTPRINT_HTTP_PORT": str(port),
            "FOOTPRINT_ADMIN_USERNAME": "operator",
            "FOOTPRINT_ADMIN_PASSWORD": secrets.token_urlsafe(16),
            "FOOTPRINT_ADMIN_EMAIL": "operator@example.org",
            "POSTGRES_USER": "footprint",
            "POSTGRES_DB": "footprint",
            "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
            "RABBITMQ_DEFAULT_USER": "footprint",
            "RABBITMQ_DEFAULT_PASS": secrets.token_urlsafe(16),
            "FOOTPRINT_RUNNER_FILES_URL": "http://web:8000",
            "FOOTPRINT_HARDWARE_CLASS": "cpu-local",
            "FOOTPRINT_HARDWARE_CLASS_CPUSET": "1" if (os.cpu_count() or 1) > 1 else "0",
            "FOOTPRINT_RUNTIME_IMAGE": runtime_image_id,
            "FOOTPRINT_RUNNER_WORK_DIR": str(work_dir),
            "FOOTPRINT_METRICS_TOKEN": secrets.token_urlsafe(16),
            # The sandbox's cgroup parents, apart from every other runner's on this host.
            "FOOTPRINT_CGROUP_ROOT": f"footprint-it-{uuid.uuid4().hex[:8]}",
            "FOOTPRINT_PLATFORM_IMAGE": f"footprint/platform:{image_tag}",
            "FOOTPRINT_RUNNER_IMAGE": f"footprint/runner:{image_tag}",
            "FOOTPRINT_POSTGRES_IMAGE": f"footprint/postgres:{image_tag}",
            "FOOTPRINT_RABBITMQ_IMAGE": f"footprint/rabbitmq:{image_tag}",
            "FOOTPRINT_BASE_IMAGE": base_image,
        }
        docker_host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        if docker_host.startswith("unix://"):
            settings["FOOTPRINT_DOCKER_SOCKET"] = docker_host.removeprefix("unix://")
        env_file = folder / "footprint.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        environ = {
            key: os.environ[key] for key in ("PATH", "HOME", "LANG", "DOCKER_HOST", "TMPDIR") if key in os.environ
        }
        environ.update(COMPOSE_PROJECT_NAME=project, FOOTPRINT_ENV_FILE=str(env_file))
        return cls(project, env_file, work_dir, port, environ, settings)

    def compose(self, *args: str, timeout: float = 900, stdin: bytes | None = None, check=True):
        return run(
            ["docker-compose", "-f", str(COMPOSE_FILE), "--env-file", str(self.env_file), *args],
            env=self.environ,
            timeout=timeout,
            stdin=stdin,
            check=check,
        )

    def up(self, *services: str, timeout: float = 900) -> None:
        """`up -d`; on a failure, the services' logs go into the error."""
        try:
            self.compose("up", "-d", *services, timeout=timeout)
        except CommandFailed as exc:
            logs = self.compose("logs", "--tail", "80", check=False).stdout.decode(errors="replace")
            raise CommandFailed(f"{exc}\nthe services' logs:\n{logs[-8000:]}") from None

    def manage(self, *args: str, timeout: float = 600) -> str:
        return self.compose("exec", "-T", "web", "python3", "manage.py", *args, timeout=timeout).stdout.decode()

    def shell(self, code: str, timeout: float = 600) -> object:
        """Python in the web container with Django set up; returns what the code prints as JSON."""
        out = self.compose("exec", "-T", "web", "python3", "manage.py", "shell", "-c", code, timeout=timeout)
        return json.loads(out.stdout.decode().strip().splitlines()[-1])

    def script(self, name: str, *args: str, timeout: float = 900) -> str:
        return run([str(REPO / "docker" / name), *args], env=self.environ, timeout=timeout).stdout.decode()

    def browser(self) -> Browser:
        return Browser(self.port)

    def wait_until_served(self, timeout_s: float = 600) -> float:
        """Seconds until the home page answers 200 through the published port."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            try:
                if self.browser().get("/").status == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.5)
        logs = self.compose("logs", "--tail", "60", check=False).stdout.decode(errors="replace")
        raise AssertionError(f"the site did not answer within {timeout_s} s:\n{logs[-6000:]}")

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "-t", "20", check=False, timeout=300)
