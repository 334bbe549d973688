"""Unit conversions, written once: energy, time and sizes."""

from __future__ import annotations

J_PER_KWH = 3.6e6
MJ_PER_J = 1000
S_PER_HOUR = 3600.0
BYTES_PER_KIB = 2**10
BYTES_PER_MIB = 2**20
BYTES_PER_GIB = 2**30


def joules_to_kwh(joules: float) -> float:
    return joules / J_PER_KWH


def kwh_to_joules(kwh: float) -> float:
    return kwh * J_PER_KWH
