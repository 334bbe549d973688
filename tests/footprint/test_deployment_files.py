"""The deployment's files agree with the code: the compose file is valid, the runner image pins
what requirements.txt pins, the env sample commits no password, and its settings pass
`manage.py check --deploy`. (The stack itself: tests/deploy, `make test-deploy`.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "docker" / "footprint.env.sample"
SECRETS = (
    "DJANGO_SECRET_KEY",
    "FOOTPRINT_ADMIN_PASSWORD",
    "POSTGRES_PASSWORD",
    "RABBITMQ_DEFAULT_PASS",
    "FOOTPRINT_METRICS_TOKEN",
)


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, _, version = line.partition("==")
            found[name.split("[")[0].lower()] = version.split(";")[0].strip()
    return found


def sample_settings() -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in SAMPLE.read_text().splitlines()
        if line and not line.startswith("#") and "=" in line
    )


def test_the_runner_image_pins_exactly_what_the_platform_pins():
    runner, platform = pins(REPO / "requirements-runner.txt"), pins(REPO / "requirements.txt")
    assert runner and {name: platform.get(name) for name in runner} == runner
    assert "django" not in runner and "torch" not in runner


def test_the_env_sample_commits_no_password_or_secret():
    settings = sample_settings()
    for name in SECRETS:
        assert settings[name] == "", f"{name} has a value in the sample"


def test_the_sample_settings_with_their_secrets_filled_pass_check_deploy(tmp_path):
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(sample_settings())
    env.update(
        DJANGO_SECRET_KEY="k" * 20 + "-deploy-check-only-" + "z" * 20,
        DATABASE_URL=f"sqlite:///{tmp_path / 'check.sqlite3'}",
        CELERY_BROKER_URL="amqp://footprint:secret@rabbitmq:5672//",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        FOOTPRINT_STORAGE_ROOT=str(tmp_path / "storage"),
        PYTHONPATH=f"{REPO}{os.pathsep}{REPO / 'platform'}",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # Secure cookies need no variable: they are the default once DEBUG is off.
    assert "DJANGO_SECURE_COOKIES" not in sample_settings()


def compose_config(env_file: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "FOOTPRINT_ENV_FILE": str(env_file), "COMPOSE_PROJECT_NAME": "fpconfigcheck"}
    return subprocess.run(
        ["docker-compose", "-f", str(REPO / "docker" / "compose.yaml"), "--env-file", str(env_file), "config"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_the_compose_file_is_valid_for_docker_compose_once_the_passwords_are_set(tmp_path):
    env_file = tmp_path / "test.env"
    env_file.write_text(SAMPLE.read_text())
    # The sample as committed: compose refuses to start anything without the passwords.
    unfilled = compose_config(env_file)
    assert unfilled.returncode != 0 and "set POSTGRES_PASSWORD" in unfilled.stderr
    filled = {name: f"{name.lower()}-value-1" for name in SECRETS}
    env_file.write_text("".join(f"{key}={filled.get(key, value)}\n" for key, value in sample_settings().items()))
    result = compose_config(env_file)
    assert result.returncode == 0, result.stderr
    # The URLs compose builds from them, so that `exec web python3 manage.py ...` has them too.
    assert "postgresql://footprint:postgres_password-value-1@postgres:5432/footprint" in result.stdout
    assert "amqp://footprint:rabbitmq_default_pass-value-1@rabbitmq:5672//" in result.stdout
    # Every platform process keeps its database connection rather than opening one per request.
    services = yaml.safe_load(result.stdout)["services"]
    for name in ("web", "worker"):
        assert int(services[name]["environment"]["DATABASE_CONN_MAX_AGE"]) > 0, name
