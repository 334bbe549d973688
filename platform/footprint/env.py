"""Typed readers of environment variables for the settings module.

Each reader fails loudly: a value it cannot parse raises ImproperlyConfigured naming the
variable and the value, so that a typo in a deployment stops the start-up instead of
silently falling back to a default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_MISSING: Any = object()


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    """The variable's value, or None when it is unset or empty (empty counts as unset)."""
    value = (os.environ if environ is None else environ).get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str = _MISSING, *, environ: Mapping[str, str] | None = None) -> str:
    """A string variable; without a default the variable is required."""
    value = _raw(name, environ)
    if value is not None:
        return value
    if default is _MISSING:
        raise ImproperlyConfigured(f"{name} is required but not set")
    return default


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    """A boolean variable: 1/true/yes/on or 0/false/no/off (any case)."""
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use one of 1, true, yes, on, 0, false, no, off")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """An integer variable (underscores allowed: 2_147_483_648), optionally bounded below."""
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value, 10)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r} must be at least {minimum}")
    return number


def env_list(name: str, default: list[str], *, environ: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list; blanks around items are dropped, empty items refused."""
    value = _raw(name, environ)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(item == "" for item in items):
        raise ImproperlyConfigured(f"{name}={value!r} has an empty item; separate items with single commas")
    return items


def redact_url(url: str) -> str:
    """The URL with its password replaced by ***, for error messages and logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.rsplit("@", 1)
        userinfo = netloc[0].split(":", 1)[0]
        return urlunsplit(parts._replace(netloc=f"{userinfo}:***@{netloc[1]}"))
    except ValueError:
        return "<unparsable URL>"


def database_from_url(url: str, *, base_dir: Path, name: str = "DATABASE_URL") -> dict[str, Any]:
    """Django's DATABASES["default"] for a database URL.

    - `sqlite:///relative/path.sqlite3` (relative to base_dir), `sqlite:////absolute/path`,
      `sqlite:///:memory:`;
    - `postgres://user:password@host:port/name` or `postgresql://...` through psycopg 3.
      Percent-encoded user names, passwords and database names are decoded; a missing
      host means the local Unix socket; query parameters (`sslmode=require`,
      `connect_timeout=5`, ...) are passed to psycopg as OPTIONS.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={redact_url(url)!r} is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        if parts.netloc:
            raise ImproperlyConfigured(
                f"{name}={redact_url(url)!r}: a SQLite URL has no host; "
                "use sqlite:///relative/path or sqlite:////absolute/path"
            )
        path = unquote(parts.path.removeprefix("/"))
        if path == "":
            raise ImproperlyConfigured(f"{name}={url!r} names no SQLite file")
        if path == ":memory:":
            return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
        file_path = Path(path) if path.startswith("/") else base_dir / path
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(file_path)}
    if scheme in ("postgres", "postgresql"):
        database = unquote(parts.path.lstrip("/"))
        if database == "" or "/" in database:
            raise ImproperlyConfigured(
                f"{name}={redact_url(url)!r} names no database; expected postgres://user:password@host:port/name"
            )
        options = dict(parse_qsl(parts.query, keep_blank_values=False, strict_parsing=False))
        # libpq also accepts the host (a socket folder) as a query parameter.
        host = unquote(parts.hostname or "") or options.pop("host", "")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": database,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": host,
            "PORT": str(port) if port is not None else "",
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"{name}={redact_url(url)!r} has an unsupported scheme {parts.scheme!r}; "
        "use sqlite:///path or postgres://user:password@host:port/name"
    )
