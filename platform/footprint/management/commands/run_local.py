"""`manage.py run_local`: the web server, the platform worker and a local runner, together.

What `make run` ends with. Each process gets the same environment (embedded SQLite and
filesystem broker unless DATABASE_URL / CELERY_BROKER_URL say otherwise); Ctrl-C stops
them all. A process that dies takes the others down with it, saying which one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

STOP_GRACE_S = 10.0


class Command(BaseCommand):
    help = "Run the web server, the platform's Celery worker and a runner for this host."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--hardware-class", default="cpu-local")

    def handle(self, *args, port: int, hardware_class: str, **options) -> None:
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        python = sys.executable
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "FOOTPRINT_HARDWARE_CLASS": hardware_class,
            # The local runner claims its jobs from this web server, like any runner.
            "FOOTPRINT_PLATFORM_URL": f"http://127.0.0.1:{port}",
            "FOOTPRINT_RUNNER_CREDENTIAL": self._local_credential(hardware_class),
        }
        env["PYTHONPATH"] = os.pathsep.join(
            [str(settings.BASE_DIR), str(Path(settings.BASE_DIR) / "platform"), env.get("PYTHONPATH", "")]
        )
        commands = {
            "web": [python, manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
            # -B: the embedded beat runs the stuck-run sweeper; one platform worker only.
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "footprint",
                "worker",
                "-Q",
                "platform",
                "-B",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "-n",
                "platform@%h",
            ],
            "runner": [python, "-m", "runners", "--hardware-class", hardware_class],
        }
        processes: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            for name, command in commands.items():
                # Own process groups: Ctrl-C reaches us once, and we stop each in order.
                processes[name] = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)
            url = f"http://127.0.0.1:{port}/"
            if self._wait_for(url, processes["web"]):
                self.stdout.write(self.style.SUCCESS(f"Footprint is running at {url}  (Ctrl-C stops it)"))
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"the {name} process exited with code {process.returncode}; stopping")
                        stopping = True
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE_S
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            self.stdout.write("stopped")

    @staticmethod
    def _local_credential(hardware_class: str) -> str:
        """A credential for this host's runner, with a new secret on every start (only its
        digest is kept, so the previous one cannot be handed over)."""
        from benchmarks.credentials import runner_credential_create, runner_credential_rotate
        from benchmarks.models import HardwareClass, RunnerCredential

        cls = HardwareClass.objects.filter(name=hardware_class).first()
        if cls is None:
            return ""  # the runner says why it cannot take jobs (and none exist for the class)
        name = f"local-{hardware_class}"[:64]
        existing = RunnerCredential.objects.filter(name=name).first()
        if existing is not None:
            return runner_credential_rotate(credential=existing).secret
        return runner_credential_create(name=name, hardware_class=cls).secret

    @staticmethod
    def _wait_for(url: str, web: subprocess.Popen, timeout_s: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and web.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return True
            except OSError:
                time.sleep(0.3)
        return False
