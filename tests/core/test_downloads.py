"""Downloads: CSV streamed line by line, JSON in one piece, both saved under the given name."""

from __future__ import annotations

import json

from core.downloads import csv_download, csv_lines, json_download


def test_csv_lines_quote_what_needs_quoting_and_leave_none_empty():
    assert list(csv_lines([("a", "b"), (1, None), ("x,y", 'say "hi"')])) == ["a,b\n", "1,\n", '"x,y","say ""hi"""\n']


def test_a_csv_download_streams_its_rows_as_an_attachment():
    response = csv_download(iter([("n",), (1,), (2,)]), filename="rows.csv")
    assert response["Content-Disposition"] == 'attachment; filename="rows.csv"'
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(response.streaming_content) == b"n\n1\n2\n"


def test_a_json_download_is_the_document_as_an_attachment():
    response = json_download({"a": [1, 2]}, filename="doc.json", indent=1)
    assert response["Content-Disposition"] == 'attachment; filename="doc.json"'
    assert json.loads(response.content) == {"a": [1, 2]}
