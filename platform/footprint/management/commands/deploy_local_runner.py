"""`manage.py deploy_local_runner`: the hardware class and credential of the compose file's runner.

Run by the web service on every start. With FOOTPRINT_HARDWARE_CLASS set it makes sure that
class exists (created with FOOTPRINT_HARDWARE_CLASS_CPUSET and _CORES when it does not; an
existing one is never changed) and that the runner on this host has a credential, whose
secret it writes to FOOTPRINT_RUNNER_CREDENTIAL_FILE (a volume only the runner reads). A
secret already there that still opens its credential is kept; a revoked credential stays
revoked (nothing is written then, and the runner says why it takes no job).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand

from benchmarks.credentials import (
    CredentialRefused,
    runner_credential_create,
    runner_credential_for_secret,
    runner_credential_rotate,
)
from benchmarks.models import HardwareClass, RunnerCredential


class Command(BaseCommand):
    help = "Ensure the local runner's hardware class and credential (compose deployment)."

    def handle(self, *args, **options) -> None:
        name = os.environ.get("FOOTPRINT_HARDWARE_CLASS", "").strip()
        target = os.environ.get("FOOTPRINT_RUNNER_CREDENTIAL_FILE", "").strip()
        if not name or not target:
            self.stdout.write("no FOOTPRINT_HARDWARE_CLASS / FOOTPRINT_RUNNER_CREDENTIAL_FILE: no local runner set up")
            return
        cpuset = os.environ.get("FOOTPRINT_HARDWARE_CLASS_CPUSET", "0")
        cores = int(os.environ.get("FOOTPRINT_HARDWARE_CLASS_CORES", str(len(_cpus(cpuset)))))
        hardware_class, created = HardwareClass.objects.get_or_create(
            name=name, defaults={"cpuset": cpuset, "cores": cores, "cpu_description": "this host"}
        )
        if created:
            self.stdout.write(f"created the hardware class {name} (CPU set {cpuset}, {cores} cores)")
        runner = os.environ.get("FOOTPRINT_LOCAL_RUNNER_ID", f"local-{name}")[:64]
        path = Path(target)
        try:
            runner_credential_for_secret(secret=path.read_text().strip())
            self.stdout.write(f"the runner {runner} keeps its credential")
            return
        except (OSError, CredentialRefused) as exc:
            if isinstance(exc, CredentialRefused) and exc.code == "credential_revoked":
                self.stdout.write(f"the credential of {runner} is revoked: the local runner takes no job")
                return
        existing = RunnerCredential.objects.filter(name=runner).first()
        if existing is not None and not existing.active:
            self.stdout.write(f"the credential of {runner} is revoked: the local runner takes no job")
            return
        issued = (
            runner_credential_rotate(credential=existing)
            if existing is not None
            else runner_credential_create(name=runner, hardware_class=hardware_class)
        )
        partial = path.with_suffix(".partial")
        partial.write_text(issued.secret + "\n")
        partial.chmod(0o640)
        os.replace(partial, path)
        self.stdout.write(f"wrote a credential for the runner {runner} ({hardware_class.name}) to {path}")


def _cpus(cpuset: str) -> list[int]:
    cpus: list[int] = []
    for part in cpuset.split(","):
        first, _, last = part.partition("-")
        cpus.extend(range(int(first), int(last or first) + 1))
    return cpus
