"""Figures in the units people read: a missing or non-finite figure is a dash, never 0."""

from __future__ import annotations

import math

import pytest

from core.formatting import (
    MISSING,
    bytes_exact,
    bytes_human,
    figure_value,
    kwh,
    percent,
    plain_significant,
    points,
    significant,
    times,
)
from core.numbers import finite_number, whole_number


@pytest.mark.parametrize("value", [None, "", "0.5", True, math.nan, math.inf, [1]])
def test_anything_but_a_finite_number_reads_as_missing(value):
    assert finite_number(value) is None
    assert percent(value) == times(value) == significant(value) == bytes_human(value) == MISSING


def test_a_whole_number_is_an_int_or_a_float_without_a_fraction():
    assert (whole_number(3), whole_number(3.0), whole_number(3.5), whole_number(True)) == (3, 3, None, None)


def test_fractions_and_ratios_read_as_percentages_points_and_factors():
    assert (percent(0.9753), percent(0.5, 0), points(-0.0031), times(1.534)) == ("97.53 %", "50 %", "-0.31 pt", "1.53×")


def test_significant_digits_switch_to_scientific_notation_only_for_tiny_or_huge_numbers():
    assert (significant(0.41234), significant(12345.6), significant(3.4e-6), significant(0)) == (
        "0.412",
        "12,346",
        "3.40e-06",
        "0",
    )
    assert plain_significant(0.0000123) == "0.0000123"


def test_joules_read_as_kilowatt_hours():
    assert kwh(3.6e6) == "1.00 kWh"


def test_sizes_read_in_the_largest_binary_unit_or_byte_for_byte():
    assert (bytes_human(512), bytes_human(1536), bytes_human(5 * 2**30)) == ("512 bytes", "1.5 KiB", "5.0 GiB")
    assert bytes_exact(2**31) == "2,147,483,648 bytes (2.00 GiB)"
    assert bytes_exact(1000) == "1,000 bytes"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.975, "fraction", "97.50 %"),
        (26214400, "bytes", "25.0 MiB"),
        (1234.5, "us", "1,234.5 µs"),
        (1.5, "s", "1.50 s"),
        (2.0, "ratio", "2.00×"),
        (1024, "count", "1,024"),
        (0.4, "mJ", "0.4 mJ"),
        (None, "us", MISSING),
    ],
)
def test_a_figure_reads_in_the_unit_of_its_contract_unit(value, unit, text):
    assert figure_value(value, unit) == text
