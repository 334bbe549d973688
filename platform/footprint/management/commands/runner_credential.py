"""`manage.py runner_credential`: make, list and revoke the credentials runner hosts present.

    manage.py runner_credential create NAME --hardware-class CLASS   prints the secret, once
    manage.py runner_credential list
    manage.py runner_credential revoke NAME

The admin does the same (Admin › Benchmarks › Runner credentials).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from benchmarks.credentials import runner_credential_create
from benchmarks.models import HardwareClass, RunnerCredential
from submissions.claims import runner_credential_revoke


class Command(BaseCommand):
    help = "Create, list or revoke runner credentials."

    def add_arguments(self, parser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        create = commands.add_parser("create", help="a new runner credential; prints its secret once")
        create.add_argument("name", help="the runner's id, e.g. lab-b-gpu-1")
        create.add_argument("--hardware-class", required=True)
        create.add_argument("--secret-only", action="store_true", help="print the secret alone (for scripts)")
        commands.add_parser("list", help="every credential and whether it is revoked")
        revoke = commands.add_parser("revoke", help="revoke a credential; its runs go to other runners")
        revoke.add_argument("name")

    def handle(self, *args, action: str, **options) -> None:
        if action == "create":
            hardware_class = HardwareClass.objects.filter(name=options["hardware_class"]).first()
            if hardware_class is None:
                raise CommandError(f"there is no hardware class {options['hardware_class']!r}; create it in the admin")
            try:
                issued = runner_credential_create(name=options["name"], hardware_class=hardware_class)
            except (ValueError, IntegrityError) as exc:
                raise CommandError(f"cannot create {options['name']!r}: {exc}") from None
            if options["secret_only"]:
                self.stdout.write(issued.secret)
            else:
                self.stdout.write(f"runner {issued.credential.name} ({hardware_class.name}); its secret, shown once:")
                self.stdout.write(issued.secret)
        elif action == "list":
            for credential in RunnerCredential.objects.select_related("hardware_class"):
                state = f"revoked {credential.revoked_at:%Y-%m-%d %H:%M}" if credential.revoked_at else "active"
                self.stdout.write(f"{credential.name}\t{credential.hardware_class.name}\t{state}")
        else:
            credential = RunnerCredential.objects.filter(name=options["name"]).first()
            if credential is None:
                raise CommandError(f"there is no runner credential {options['name']!r}")
            counts = runner_credential_revoke(credential=credential, by=None)
            self.stdout.write(f"revoked {credential.name}; runs queued again: {counts['requeued']}")
