"""The audits of a submission's server: pure verdicts on what the measurement recorded.

Each audit compares a figure with a threshold and says in a sentence what was seen; a
failed audit keeps the result off the ranking (runners/README.md, "audits";
docs/measurement.md, "Audits").
"""

from __future__ import annotations

import numpy as np

from runners import stats
from runners.result import Audit

# The rate at which an honest server's replies may disagree with its accuracy pass: batch-1
# and batched kernels round differently (a dynamically quantized model scales activations
# per batch) and may flip a near-tie arg-max.
PREDICTION_MISMATCH_TOLERANCE = 0.001
# An audit allows the mismatches that an honest server flipping at that rate stays within
# with this probability (stats.binomial_tolerance): 1 honest run in 1,000 fails.
PREDICTION_AUDIT_CONFIDENCE = 0.999
# A repeated input answered this much faster than unseen ones looks like a reply cache.
CACHE_SUSPECT_RATIO = 0.8

TIMED_PREDICTIONS = "timed_predictions"
PROBE_PREDICTIONS = "probe_predictions"
OFFLINE_PREDICTIONS = "offline_predictions"
CACHING = "caching"


def mismatch_rate(mismatches: int, checked: int) -> float | None:
    return mismatches / checked if checked else None


def predictions_audit(name: str, *, what: str, mismatches: int, checked: int, subject: str = "submission") -> Audit:
    """`what` names the replies ("timed replies", "caching-probe replies", ...)."""
    rate = mismatch_rate(mismatches, checked)
    if rate is None:
        return Audit(name, subject, "not_run", f"no {what} were checked.")
    share = f"{mismatches} of {checked} {what} ({100 * rate:.3g} %)"
    tolerated = stats.binomial_tolerance(checked, PREDICTION_MISMATCH_TOLERANCE, PREDICTION_AUDIT_CONFIDENCE)
    rate_words = f"{100 * PREDICTION_MISMATCH_TOLERANCE:g} %"
    confidence_words = f"{100 * PREDICTION_AUDIT_CONFIDENCE:g} %"
    allowed = (
        f"at most {tolerated} of {checked} may (near-ties can round either way: a server whose replies flip at "
        f"{rate_words} stays within that {confidence_words} of the time)"
    )
    if mismatches > tolerated:
        verdict, sentence = (
            "failed",
            f"{share} differ from the predictions the same server gave in the accuracy pass; {allowed}.",
        )
    else:
        verdict, sentence = "passed", f"{share} differ from the accuracy pass's predictions; {allowed}."
    return Audit(
        name,
        subject,
        verdict,
        sentence,
        figure="prediction_mismatch_rate" if name == TIMED_PREDICTIONS else None,
        value=rate,
        threshold=PREDICTION_MISMATCH_TOLERANCE,
        unit="fraction",
    )


def count_mismatches(predictions: np.ndarray, inputs: np.ndarray, expected: np.ndarray) -> int:
    """Replies whose prediction differs from the accuracy pass's for the same test input."""
    return int(np.count_nonzero(np.asarray(predictions) != expected[np.asarray(inputs)]))


def caching_audit(ratio: float | None, *, repeated_p50_us: float | None, fresh_p50_us: float | None) -> Audit:
    if ratio is None:
        return Audit(CACHING, "submission", "not_run", "the test split is too small for the caching probe.")
    numbers = f"a repeated input took {repeated_p50_us:.1f} µs (median), unseen ones {fresh_p50_us:.1f} µs"
    if ratio < CACHE_SUSPECT_RATIO:
        verdict = "failed"
        sentence = (
            f"The server answers an input it has seen before faster than new ones ({numbers}, ratio {ratio:.2f} "
            f"< {CACHE_SUSPECT_RATIO}): it keeps a reply cache, which the published latency must not depend on."
        )
    else:
        verdict, sentence = "passed", f"No sign of a reply cache: {numbers} (ratio {ratio:.2f})."
    return Audit(
        CACHING,
        "submission",
        verdict,
        sentence,
        figure="repeat_latency_ratio",
        value=ratio,
        threshold=CACHE_SUSPECT_RATIO,
        unit="ratio",
    )


# Flags older readers of the result document know (docs/measurement.md, "Flags").
FLAG_OF_AUDIT = {TIMED_PREDICTIONS: "predictions_differ", CACHING: "cache_suspected"}


def flags_of(audits: list[Audit]) -> list[str]:
    return sorted({FLAG_OF_AUDIT[a.name] for a in audits if a.failed and a.name in FLAG_OF_AUDIT})
