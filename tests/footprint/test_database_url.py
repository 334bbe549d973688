"""DATABASE_URL parsing (footprint.env.database_from_url)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from footprint.env import database_from_url, redact_url

BASE = Path("/srv/footprint")


def test_it_reads_an_absolute_sqlite_path():
    config = database_from_url("sqlite:////var/lib/footprint/db.sqlite3", base_dir=BASE)
    assert config == {"ENGINE": "django.db.backends.sqlite3", "NAME": "/var/lib/footprint/db.sqlite3"}


def test_it_reads_a_sqlite_path_relative_to_the_repository():
    config = database_from_url("sqlite:///var/footprint.sqlite3", base_dir=BASE)
    assert config["NAME"] == "/srv/footprint/var/footprint.sqlite3"


def test_it_reads_an_in_memory_sqlite_database():
    assert database_from_url("sqlite:///:memory:", base_dir=BASE)["NAME"] == ":memory:"


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_it_reads_a_postgres_url_with_encoded_credentials_and_options(scheme):
    config = database_from_url(
        f"{scheme}://foot%40print:p%40ss%2Fw0rd@db.internal:6432/foot%2Dprint?sslmode=require&connect_timeout=5",
        base_dir=BASE,
    )
    assert config == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "foot-print",
        "USER": "foot@print",
        "PASSWORD": "p@ss/w0rd",
        "HOST": "db.internal",
        "PORT": "6432",
        "OPTIONS": {"sslmode": "require", "connect_timeout": "5"},
    }


def test_it_reads_a_postgres_url_on_the_local_socket():
    config = database_from_url("postgres:///footprint?host=/var/run/postgresql", base_dir=BASE)
    assert (config["HOST"], config["PORT"], config["NAME"], config["OPTIONS"]) == (
        "/var/run/postgresql",
        "",
        "footprint",
        {},
    )


def test_it_rejects_a_postgres_url_without_a_database_name_and_hides_the_password():
    with pytest.raises(ImproperlyConfigured) as error:
        database_from_url("postgres://user:s3cret@host:5432/", base_dir=BASE)
    assert "names no database" in str(error.value)
    assert "s3cret" not in str(error.value)
    assert "DATABASE_URL" in str(error.value)


def test_it_rejects_an_unsupported_scheme():
    with pytest.raises(ImproperlyConfigured, match="unsupported scheme 'mysql'"):
        database_from_url("mysql://u:p@h/db", base_dir=BASE)


def test_it_rejects_a_port_that_is_not_a_number():
    with pytest.raises(ImproperlyConfigured, match="is not a valid URL"):
        database_from_url("postgres://u:p@h:port/db", base_dir=BASE)


def test_it_redacts_passwords_for_messages():
    assert redact_url("postgres://u:secret@h:5432/db") == "postgres://u:***@h:5432/db"
    assert redact_url("redis://localhost:6379/0") == "redis://localhost:6379/0"
