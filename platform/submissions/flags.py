"""The flags a runner puts on a result (docs/measurement.md, "Flags"), in words a reader can check.

A flag is a warning shown with the result wherever it appears; what keeps a result off the
ranking is a failed audit (submissions.audits).
"""

from __future__ import annotations

from dataclasses import dataclass

from submissions.models import Figure

# Flags a runner may put on a result (docs/measurement.md, "Flags"), in display order.
FLAG_ORDER = ("unstable", "predictions_differ", "cache_suspected")


@dataclass(frozen=True)
class FlagNote:
    name: str  # the flag as the result document names it
    text: str  # the label shown
    title: str  # why, in words a reader can check against the figures


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def result_flag_notes(*, flags: list[str], figures: dict[tuple[str, str], Figure], provenance: dict) -> list[FlagNote]:
    """The flags of a result with the figures that raised them, for a label's title."""
    thresholds = provenance.get("flag_thresholds") if isinstance(provenance, dict) else None
    thresholds = thresholds if isinstance(thresholds, dict) else {}

    def value(subject: str, name: str) -> float | None:
        figure = figures.get((subject, name))
        return figure.value if figure is not None else None

    notes = []
    known = [f for f in FLAG_ORDER if f in flags] + sorted(f for f in flags if f not in FLAG_ORDER)
    for flag in known:
        if flag == "unstable":
            repeats = provenance.get("repeats") if isinstance(provenance, dict) else None
            title = (
                f"The p50 latency varied over the {repeats or 'repeated'} fresh serve processes more than the "
                f"benchmark's threshold of {_percent(thresholds.get('unstable_cv'))} (coefficient of variation: "
                f"reference {_percent(value('reference', 'latency_p50_cv'))}, submission "
                f"{_percent(value('submission', 'latency_p50_cv'))}). The latencies are medians of the repeats; "
                "the speed-up is less certain than its digits suggest."
            )
        elif flag == "predictions_differ":
            title = (
                f"{_percent(value('submission', 'prediction_mismatch_rate'))} of the timed single-stream replies "
                f"differ from the accuracy run's predictions for the same inputs (tolerance "
                f"{_percent(thresholds.get('prediction_mismatch_rate'))}): the model that was timed may not be "
                "the model that was scored."
            )
        elif flag == "cache_suspected":
            ratio = value("submission", "repeat_latency_ratio")
            title = (
                f"One input sent again and again was answered in {'n/a' if ratio is None else f'{ratio:.2f}'}x the "
                f"median time of unseen inputs (flagged below {thresholds.get('repeat_latency_ratio', 0.8)}x): "
                "the server may remember replies, which makes its latencies look better than a model's."
            )
        else:
            title = f"flagged by the runner: {flag}"
        notes.append(FlagNote(name=flag, text=flag.replace("_", " "), title=title))
    return notes
