"""Responses that a browser saves as a file: CSV streamed line by line, JSON in one piece."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse

# Spreadsheets run a cell that starts with one of these as a formula; text from users (a
# method's name, a reason) is written with a leading apostrophe (OWASP, "CSV injection").
# Numbers are never touched.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """A text cell that a spreadsheet shows as text, never runs as a formula."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


class _Echo:
    """A file-like object whose write returns the line: csv.writer then yields strings."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Each row as one CSV line (None is written as an empty field)."""
    writer = csv.writer(_Echo(), lineterminator="\n")
    for row in rows:
        yield writer.writerow(row)


def attachment(response: HttpResponse, *, filename: str) -> HttpResponse:
    """Mark `response` as a download named `filename` (callers pass names made of slugs and ids)."""
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_download(rows: Iterable[Sequence[Any]], *, filename: str) -> StreamingHttpResponse:
    """`rows` (header first) streamed as CSV. Build them before: every query should run
    inside the request's error handling, not while the body streams."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    attachment(response, filename=filename)
    return response


def json_download(document: Any, *, filename: str, indent: int | None = None) -> JsonResponse:
    params = {"indent": indent} if indent is not None else {}
    response = JsonResponse(document, json_dumps_params=params)
    attachment(response, filename=filename)
    return response
