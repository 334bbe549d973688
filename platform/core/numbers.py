"""Reading numbers out of stored JSON (result documents, method.json, provenance).

Those documents come from runners and submitters: a value may be missing, a string, a
boolean or not finite. Every reader turns such a value into None, never into 0.
"""

from __future__ import annotations

import math
from typing import Any


def finite_number(value: Any) -> float | None:
    """A finite JSON number as a float (a boolean is not a number), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def whole_number(value: Any) -> int | None:
    """An integer, or a float with no fractional part, as an int (not a boolean), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
