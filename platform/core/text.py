"""Text from outside (containers, runners, uploads) made storable: PostgreSQL refuses a NUL
character in text and jsonb, and a lone UTF-16 surrogate in jsonb, and would refuse a whole
result for one such byte in a log tail."""

from __future__ import annotations

from typing import Any

REPLACEMENT = "\ufffd"


def storable_text(text: str) -> str:
    """`text` with NUL and lone surrogates replaced by U+FFFD (other characters kept)."""
    if "\x00" in text:
        text = text.replace("\x00", REPLACEMENT)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


def storable(value: Any) -> Any:
    """A copy of a JSON-like value whose every string (keys too) is storable_text(). Iterative:
    a document nested deeper than the stack allows is handled as well."""
    if isinstance(value, str):
        return storable_text(value)
    if not isinstance(value, (dict, list)):
        return value
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        item, parent, key = stack.pop()
        if isinstance(item, dict):
            copy: Any = {}
            for k, v in item.items():
                stack.append((v, copy, storable_text(k) if isinstance(k, str) else k))
        elif isinstance(item, list):
            copy = [None] * len(item)
            for i, v in enumerate(item):
                stack.append((v, copy, i))
        elif isinstance(item, str):
            copy = storable_text(item)
        else:
            copy = item
        parent[key] = copy
    return root[0]
