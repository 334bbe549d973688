"""A result's audits (runners/README.md, "audits"), read once when the result is stored.

Each audit is a check of the server's honesty: its verdict, the figure it rests on and a
sentence saying what was seen. A document from a runner older than audits has flags only:
`predictions_differ` and `cache_suspected` then count as failed audits, with a sentence
made from the figures that raised them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from submissions.flags import result_flag_notes
from submissions.models import Audit, Figure

# Flag of an older runner -> (audit name, figure, unit) of the audit it stands for.
FLAG_AUDITS: dict[str, tuple[str, str, str]] = {
    "predictions_differ": ("timed_predictions", "prediction_mismatch_rate", "fraction"),
    "cache_suspected": ("caching", "repeat_latency_ratio", "ratio"),
}
# What each audit checks, in words (runners/README.md); others show their name.
AUDIT_TITLES: dict[str, str] = {
    "timed_predictions": "timed replies against the accuracy pass",
    "probe_predictions": "the caching probe's replies",
    "offline_predictions": "the offline-throughput replies",
    "caching": "repeated input against unseen inputs (caching probe)",
}


def audit_title(name: str) -> str:
    return AUDIT_TITLES.get(name, name.replace("_", " "))


def _finite_or_none(value: Any, *, what: str) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"the audit {what} is {number}")
    return number


def _runner_audits(entries: list[dict[str, Any]]) -> list[Audit]:
    audits: list[Audit] = []
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        key = (entry["subject"], entry["name"])
        if key in seen:
            raise ValueError(f"the audit {entry['name']!r} of the {entry['subject']} appears twice")
        seen.add(key)
        what = f"{entry['name']!r} of the {entry['subject']}"
        audits.append(
            Audit(
                name=entry["name"],
                subject=entry["subject"],
                verdict=entry["verdict"],
                figure=entry.get("figure") or "",
                value=_finite_or_none(entry.get("value"), what=f"value of {what}"),
                threshold=_finite_or_none(entry.get("threshold"), what=f"threshold of {what}"),
                unit=entry.get("unit") or "",
                sentence=entry["sentence"],
                source=Audit.Source.RUNNER,
            )
        )
    return audits


def _flag_audits(document: Mapping[str, Any], figures: Iterable[Figure]) -> list[Audit]:
    flags = [flag for flag in document.get("flags") or [] if flag in FLAG_AUDITS]
    if not flags:
        return []
    by_key = {(f.subject, f.name): f for f in figures}
    provenance = document.get("provenance") if isinstance(document.get("provenance"), dict) else {}
    thresholds = provenance.get("flag_thresholds") if isinstance(provenance.get("flag_thresholds"), dict) else {}
    audits = []
    for note in result_flag_notes(flags=flags, figures=by_key, provenance=provenance):
        name, figure_name, unit = FLAG_AUDITS[note.name]
        figure = by_key.get((Figure.Subject.SUBMISSION, figure_name))
        threshold = thresholds.get(figure_name)
        audits.append(
            Audit(
                name=name,
                subject=Figure.Subject.SUBMISSION,
                verdict=Audit.Verdict.FAILED,
                figure=figure_name,
                value=figure.value if figure is not None else None,
                # Only a threshold the runner recorded; none is made up.
                threshold=float(threshold) if isinstance(threshold, int | float) and math.isfinite(threshold) else None,
                unit=unit,
                sentence=f"{note.title} (Read from the flag {note.name}: this result's runner is older than audits.)",
                source=Audit.Source.FLAG,
            )
        )
    return audits


def audits_from_document(*, document: Mapping[str, Any], figures: Iterable[Figure]) -> list[Audit]:
    """The unsaved Audit rows of a validated result document, whose `figures` are read already.

    A document with `audits` (even empty) is taken at its word; one without is read through
    its flags. Raises ValueError for an audit given twice or a value that is not finite.
    """
    if "audits" in document:
        return _runner_audits(list(document["audits"] or []))
    return _flag_audits(document, figures)


def failed_audits(audits: Iterable[Audit]) -> list[Audit]:
    return [audit for audit in audits if audit.verdict == Audit.Verdict.FAILED]
