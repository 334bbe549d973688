"""The typed environment readers of footprint/env.py fail loudly, naming variable and value."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from footprint.env import env_bool, env_int, env_list, env_str


def test_it_reads_booleans_in_the_usual_spellings():
    for text in ("1", "true", "TRUE", "yes", "on"):
        assert env_bool("X_FLAG", False, environ={"X_FLAG": text}) is True
    for text in ("0", "false", "No", "off"):
        assert env_bool("X_FLAG", True, environ={"X_FLAG": text}) is False


def test_it_uses_the_default_when_a_variable_is_unset_or_empty():
    assert env_bool("X_FLAG", True, environ={}) is True
    assert env_int("X_COUNT", 7, environ={"X_COUNT": "  "}) == 7
    assert env_list("X_HOSTS", ["a"], environ={}) == ["a"]
    assert env_str("X_NAME", "default", environ={"X_NAME": ""}) == "default"


def test_it_rejects_a_boolean_it_cannot_read_naming_the_variable_and_value():
    with pytest.raises(ImproperlyConfigured, match=r"X_FLAG='maybe' is not a boolean"):
        env_bool("X_FLAG", False, environ={"X_FLAG": "maybe"})


def test_it_rejects_an_integer_it_cannot_read():
    with pytest.raises(ImproperlyConfigured, match=r"X_COUNT='2GiB' is not an integer"):
        env_int("X_COUNT", 1, environ={"X_COUNT": "2GiB"})


def test_it_rejects_an_integer_below_its_minimum():
    with pytest.raises(ImproperlyConfigured, match=r"X_COUNT='-1' must be at least 0"):
        env_int("X_COUNT", 1, minimum=0, environ={"X_COUNT": "-1"})


def test_it_reads_integers_with_underscores():
    assert env_int("X_BYTES", 1, environ={"X_BYTES": "2_147_483_648"}) == 2**31


def test_it_splits_lists_on_commas_and_strips_blanks():
    assert env_list("X_HOSTS", [], environ={"X_HOSTS": "a.example, b.example"}) == ["a.example", "b.example"]


def test_it_rejects_a_list_with_an_empty_item():
    with pytest.raises(ImproperlyConfigured, match=r"X_HOSTS='a,,b' has an empty item"):
        env_list("X_HOSTS", [], environ={"X_HOSTS": "a,,b"})


def test_it_requires_a_string_without_default():
    with pytest.raises(ImproperlyConfigured, match="X_SECRET is required but not set"):
        env_str("X_SECRET", environ={})
