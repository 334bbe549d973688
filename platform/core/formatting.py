"""Figures in the units people read (%, MiB, µs, s, ×, kWh), written once for pages and messages.

A missing figure (None, or anything that is not a finite number) shows as an em dash,
never as 0. The template filters of `{% load footprint_format %}` are these functions.
"""

from __future__ import annotations

import math
from typing import Any

from core.numbers import finite_number
from core.units import BYTES_PER_GIB, BYTES_PER_KIB, BYTES_PER_MIB, J_PER_KWH, S_PER_HOUR, joules_to_kwh

MISSING = "\u2014"


def percent(fraction: Any, decimals: int = 2) -> str:
    """0.9753 -> "97.53 %"."""
    number = finite_number(fraction)
    return MISSING if number is None else f"{number * 100:.{int(decimals)}f} %"


def points(delta_fraction: Any) -> str:
    """A change of a fraction in percentage points, signed: -0.0031 -> "-0.31 pt"."""
    number = finite_number(delta_fraction)
    return MISSING if number is None else f"{number * 100:+.2f} pt"


def mib(size_bytes: Any) -> str:
    """Bytes as a bare number of MiB (the column says the unit): 26214400 -> "25.0"."""
    number = finite_number(size_bytes)
    return MISSING if number is None else f"{number / BYTES_PER_MIB:.1f}"


def decimal(value: Any, decimals: int = 1) -> str:
    number = finite_number(value)
    return MISSING if number is None else f"{number:,.{int(decimals)}f}"


def times(ratio: Any) -> str:
    """A ratio as a factor: 1.534 -> "1.53×"."""
    number = finite_number(ratio)
    return MISSING if number is None else f"{number:.2f}\u00d7"


def significant(value: Any, digits: int = 3) -> str:
    """A number with `digits` significant digits: 0.41234 -> "0.412", 12345.6 -> "12,346";
    very small or very large numbers in scientific notation (3.4e-06)."""
    number = finite_number(value)
    if number is None:
        return MISSING
    digits = max(int(digits), 1)
    if number == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(number)))
    if magnitude < -3 or magnitude >= 12:
        return f"{number:.{digits - 1}e}"
    return f"{number:,.{max(digits - 1 - magnitude, 0)}f}"


def plain_significant(value: float, digits: int = 3) -> str:
    """A plain decimal with `digits` significant digits, never scientific: 0.0000123 -> "0.0000123"."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def kwh(joules: Any) -> str:
    """Joules as kilowatt-hours: 12.3 -> "3.42e-06 kWh"."""
    number = finite_number(joules)
    return MISSING if number is None else f"{significant(joules_to_kwh(number))} kWh"


def bytes_human(size_bytes: Any) -> str:
    """A size in the largest binary unit that keeps it >= 1: 1536 -> "1.5 KiB"."""
    number = finite_number(size_bytes)
    if number is None:
        return MISSING
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if number < BYTES_PER_KIB or unit == "GiB":
            return f"{number:.0f} {unit}" if unit == "bytes" else f"{number:.1f} {unit}"
        number /= BYTES_PER_KIB
    raise AssertionError("unreachable")


def bytes_exact(size_bytes: Any) -> str:
    """Every byte, and the GiB from one GiB up: "2,147,483,648 bytes (2.00 GiB)"."""
    number = finite_number(size_bytes)
    if number is None:
        return MISSING
    if number >= BYTES_PER_GIB:
        return f"{number:,.0f} bytes ({number / BYTES_PER_GIB:.2f} GiB)"
    return f"{number:,.0f} bytes"


def figure_value(value: Any, unit: str) -> str:
    """A figure's value in a readable unit, from its contract unit (runners/README.md)."""
    number = finite_number(value)
    if number is None:
        return MISSING
    if unit == "fraction":
        return percent(number)
    if unit == "bytes":
        return f"{number / BYTES_PER_MIB:,.1f} MiB"
    if unit == "us":
        return f"{number:,.1f} \u00b5s"
    if unit == "s":
        return f"{number:,.2f} s"
    if unit == "ratio":
        return times(number)
    if unit == "count":
        return f"{number:,.0f}"
    return f"{number:g} {unit}"


def duration(seconds: Any) -> str:
    """A time span in the unit people read: 3.2 -> "3.2 s", 252 -> "4 min 12 s", 9000 -> "2.5 h"."""
    number = finite_number(seconds)
    if number is None:
        return MISSING
    if number < 60:
        return f"{plain_significant(number, 2)} s"
    if number < 3600:
        minutes, rest = divmod(round(number), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    if number < 86400 * 2:
        return f"{plain_significant(number / 3600, 2)} h"
    return f"{plain_significant(number / 86400, 2)} days"


def energy(joules: Any) -> str:
    """An energy in the unit people read: 16.2 -> "16 J", 5400 -> "5.4 kJ", 7.2e6 -> "2.0 kWh"."""
    number = finite_number(joules)
    if number is None:
        return MISSING
    magnitude = abs(number)
    if magnitude < 1000:
        return f"{plain_significant(number, 2)} J"
    if magnitude < J_PER_KWH / 10:
        return f"{plain_significant(number / 1000, 2)} kJ"
    return f"{plain_significant(joules_to_kwh(number), 2)} kWh"


def device_time(device_hours: Any, gpus: int = 0, cores: int = 1) -> str:
    """Device-hours in words: "3.2 s of one core", "2.5 h on 4 GPUs" (budgets.costs counts a
    CPU class as one device, whatever its cores)."""
    number = finite_number(device_hours)
    if number is None:
        return MISSING
    if gpus:
        return f"{duration(number * S_PER_HOUR / gpus)} on {gpus} GPU{'s' if gpus != 1 else ''}"
    return f"{duration(number * S_PER_HOUR)} of {'one core' if cores == 1 else f'{cores} cores'}"


def count_words(value: Any) -> str:
    """A count as people say it: 12345 -> "12,345", 3_200_000 -> "3.2 million"."""
    number = finite_number(value)
    if number is None:
        return MISSING
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if abs(number) >= size:
            return f"{plain_significant(number / size, 2)} {word}"
    return f"{number:,.0f}"


def microseconds(value: Any) -> str:
    """A latency with its unit: 66.66 -> "66.7 µs"; missing: an em dash, without a unit."""
    number = finite_number(value)
    return MISSING if number is None else f"{number:,.1f}\u00a0\u00b5s"


def mib_text(size_bytes: Any) -> str:
    """Bytes as MiB with the unit: 26214400 -> "25.0 MiB"; missing: an em dash, without a unit."""
    number = finite_number(size_bytes)
    return MISSING if number is None else f"{number / BYTES_PER_MIB:,.1f}\u00a0MiB"
