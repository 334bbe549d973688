"""The project package imports no Django and no Celery: footprint.client and the command work
without settings; `celery -A footprint` still finds the app, and @shared_task tasks of a
Django process send through it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.fixtures.leftovers import subprocess_env

REPO = Path(__file__).resolve().parents[2]
PLATFORM_PATH = f"{REPO / 'platform'}"


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=subprocess_env(PYTHONPATH=PLATFORM_PATH, **env),
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_client_and_the_command_import_without_django_settings():
    done = _python(
        "import sys, footprint.client, footprint.cli; "
        "print(sorted(m for m in ('django', 'celery', 'kombu') if m in sys.modules))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_footprint_command_is_installed_with_the_package():
    command = Path(sys.executable).parent / "footprint"
    assert command.is_file(), "make venv installs the package (pip install -e .)"
    done = subprocess.run(
        [str(command), "--help"], env=subprocess_env(), cwd="/", capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    for name in ("login", "submit", "status", "logs", "results", "leaderboard", "reproduce"):
        assert name in done.stdout


def test_celery_dash_a_footprint_finds_the_configured_app_and_its_tasks():
    done = _python(
        "from celery.app.utils import find_app; app = find_app('footprint'); app.loader.import_default_modules(); "
        "print(app.main, app.conf.task_default_queue, 'footprint.dispatch_run' in app.tasks)",
        DJANGO_DEBUG="1",
        DATABASE_URL="sqlite:///:memory:",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["footprint", "platform", "True"]


def test_shared_tasks_of_a_django_process_send_through_the_platforms_app():
    from footprint.celery import app
    from submissions.tasks import dispatch_run

    assert dispatch_run.app is app
    assert dispatch_run.app.conf.task_default_queue == "platform"
