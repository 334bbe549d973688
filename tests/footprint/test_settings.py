"""The settings module started in a fresh process, as a deployment would start it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_SECRET = "k3Qz-9vLx_T2mWp8RbYc4NdHf6JsAe1GuKo7XiVqZlMn0PtSrEyBw5Ca"


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": f"{REPO_ROOT / 'platform'}{os.pathsep}{REPO_ROOT}",
        "DJANGO_SETTINGS_MODULE": "footprint.settings",
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _deployment_env(tmp_path: Path) -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": DEPLOY_SECRET,
        "DJANGO_ALLOWED_HOSTS": "footprint.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "FOOTPRINT_STORAGE_ROOT": str(tmp_path / "storage"),
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    }


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    env = _deployment_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    done = _run(["-c", "import django; django.setup()"], env)
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY is required but not set" in done.stderr


def test_it_refuses_a_debug_flag_it_cannot_read(tmp_path):
    done = _run(["-c", "import django; django.setup()"], {**_deployment_env(tmp_path), "DJANGO_DEBUG": "sometimes"})
    assert done.returncode != 0
    assert "DJANGO_DEBUG='sometimes' is not a boolean" in done.stderr


def test_it_refuses_a_broker_url_it_does_not_support(tmp_path):
    done = _run(
        ["-c", "import django; django.setup()"],
        {**_deployment_env(tmp_path), "CELERY_BROKER_URL": "kafka://broker:9092"},
    )
    assert done.returncode != 0
    assert "CELERY_BROKER_URL='kafka://broker:9092'" in done.stderr


def test_check_deploy_is_clean_when_the_https_variables_are_set(tmp_path):
    env = {
        **_deployment_env(tmp_path),
        "DJANGO_SECURE_COOKIES": "1",
        "DJANGO_SECURE_SSL_REDIRECT": "1",
        "DJANGO_SECURE_HSTS_SECONDS": "31536000",
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "DJANGO_SECURE_HSTS_PRELOAD": "1",
    }
    done = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_it_starts_in_debug_with_the_embedded_defaults(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CELERY_BROKER_URL, s.DATABASES['default']['ENGINE'], s.FOOTPRINT_UPLOAD_MAX_BYTES)"
    )
    done = _run(["-c", code], {"DJANGO_DEBUG": "1", "FOOTPRINT_STORAGE_ROOT": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["filesystem://", "django.db.backends.sqlite3", str(2 * 2**30)]


def test_the_shared_cache_is_the_database_by_default_redis_on_request_and_never_a_typo(tmp_path):
    show = (
        "import django; django.setup(); from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    )
    env = _deployment_env(tmp_path)
    assert _run(["-c", show], env).stdout.strip() == "django.core.cache.backends.db.DatabaseCache"
    redis = _run(["-c", show], {**env, "FOOTPRINT_CACHE_URL": "redis://127.0.0.1:6379/1"})
    assert redis.stdout.strip() == "django.core.cache.backends.redis.RedisCache"
    typo = _run(["-c", show], {**env, "FOOTPRINT_CACHE_URL": "memcache"})
    assert typo.returncode != 0 and "FOOTPRINT_CACHE_URL='memcache' is not a cache" in typo.stderr


def test_a_started_web_process_keeps_its_loaded_heap_out_of_the_collectors_way(tmp_path):
    # What gunicorn loads in each worker: Django and the apps, frozen once (footprint.wsgi).
    done = _run(
        [
            "-c",
            "import gc; before = gc.get_freeze_count(); import footprint.wsgi; print(before, gc.get_freeze_count())",
        ],
        _deployment_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    assert before == 0 and after > 10_000
