"""`manage.py createadmin`: the first administrator of a deployment, from the environment.

Reads FOOTPRINT_ADMIN_USERNAME, FOOTPRINT_ADMIN_PASSWORD (or FOOTPRINT_ADMIN_PASSWORD_FILE) and
FOOTPRINT_ADMIN_EMAIL. Idempotent: an existing user of that name is left as it is (a password
changed in the admin since stays changed). Without the variables it does nothing, so the web
service can run it on every start; `--require` makes their absence an error.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the first superuser from FOOTPRINT_ADMIN_USERNAME / _PASSWORD / _EMAIL (once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--require", action="store_true", help="fail when the variables are not set")

    def handle(self, *args, require: bool, **options) -> None:
        username = os.environ.get("FOOTPRINT_ADMIN_USERNAME", "").strip()
        password = os.environ.get("FOOTPRINT_ADMIN_PASSWORD", "")
        password_file = os.environ.get("FOOTPRINT_ADMIN_PASSWORD_FILE", "")
        if password_file:
            password = Path(password_file).read_text().strip()
        if not username or not password:
            if require:
                raise CommandError("set FOOTPRINT_ADMIN_USERNAME and FOOTPRINT_ADMIN_PASSWORD (or _PASSWORD_FILE)")
            self.stdout.write("no FOOTPRINT_ADMIN_USERNAME/_PASSWORD: no administrator created")
            return
        users = get_user_model()
        if users.objects.filter(username=username).exists():
            self.stdout.write(f"the administrator {username} exists; left as it is")
            return
        user = users(username=username, email=os.environ.get("FOOTPRINT_ADMIN_EMAIL", ""))
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(f"FOOTPRINT_ADMIN_PASSWORD is too weak: {' '.join(exc.messages)}") from None
        users.objects.create_superuser(username=username, email=user.email, password=password)
        self.stdout.write(self.style.SUCCESS(f"created the administrator {username}"))
