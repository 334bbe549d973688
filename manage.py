#!/usr/bin/env python
"""Django's command-line entry point for Footprint."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent


def main() -> None:
    # platform/ holds top-level packages (footprint, benchmarks, ...) but is not a package
    # itself: an __init__.py there would shadow the standard library's `platform` module.
    sys.path.insert(0, str(REPO_ROOT / "platform"))
    # The repository root, for `runners` (the platform imports its contract modules).
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(1, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "footprint.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
