"""The demo paper: fictional claims about the example methods, chosen to show every status.

The claimed figures are set against what the examples measure on the digits benchmark on
a CPU runner (examples/README.md): structured-prune ~1.2-1.8x speed-up, 4.1x compression,
97.9 % accuracy; unstructured-prune ~1.0x, 9.9x, 97.6 %; distill ~1.4-1.7x, 33x; int8-dynamic
~1.0-1.2x at the reference's accuracy; identity 1.0x. So, once the runs succeed:

- identity, int8-dynamic, structured-prune: reproduced (claims the measurement meets);
- unstructured-prune claims 3x faster: not reproduced (smaller, not faster);
- distill claims 99 % accuracy and 33x compression: partially reproduced;
- a static-int8 claim that no submission measures: pending for good.
"""

from __future__ import annotations

from typing import Any

from benchmarks.models import Benchmark, HardwareClass
from papers.models import Claim, Paper
from submissions.models import Submission

DEMO_PAPER_SLUG = "footprint-demo-digits"
DEMO_PAPER_TITLE = "Footprint demo: five ways to shrink a digits classifier"
EXAMPLE_METHODS = ("identity", "int8-dynamic", "unstructured-prune", "structured-prune", "distill")
# A method of the fictional paper that no example implements: its claim stays pending.
UNSUBMITTED_METHOD = "int8-static"


def demo_claims(*, benchmark: Benchmark) -> dict[str, dict[str, Any]]:
    """Method -> its claim's fields (claimed figures and note)."""
    return {
        "identity": {
            "claimed_accuracy": benchmark.reference_accuracy,
            "claimed_speedup": 1.0,
            "note": "The reference, re-saved: the same accuracy and speed.",
        },
        "int8-dynamic": {
            "claimed_accuracy": benchmark.reference_accuracy,
            "claimed_speedup": 1.0,
            "note": "Dynamic int8 quantization of the Linear layers: no loss, no slower.",
        },
        "unstructured-prune": {
            "claimed_speedup": 3.0,
            "note": (
                "90 % magnitude pruning: 10x fewer non-zero weights, claimed to run 3x faster. A dense "
                "kernel multiplies the zeros all the same, so the measurement does not reproduce it."
            ),
        },
        "structured-prune": {
            "claimed_accuracy": 0.975,
            "claimed_compression_ratio": 4.0,
            "note": "Channel pruning, rebuilt smaller: 4x fewer parameters at 97.5 %.",
        },
        "distill": {
            "claimed_accuracy": 0.99,
            "claimed_compression_ratio": 33.0,
            "note": (
                "Distillation into a 4.5k-parameter student: the compression is real, the accuracy "
                "claimed (99 %) is above what the student reaches."
            ),
        },
        UNSUBMITTED_METHOD: {
            "claimed_accuracy": 0.97,
            "claimed_speedup": 2.0,
            "note": "Static int8 quantization: no submission implements it, so the claim stays pending.",
        },
    }


def seed_demo_papers(
    *, benchmark: Benchmark, hardware_class: HardwareClass, submissions_by_method: dict[str, Submission]
) -> Paper:
    """The demo paper with one claim per example method present, plus one unsubmitted claim.

    Idempotent: a second call updates the same paper and claims (by method) and creates
    nothing twice. Methods not among EXAMPLE_METHODS are ignored.
    """
    paper, _ = Paper.objects.update_or_create(
        slug=DEMO_PAPER_SLUG,
        defaults={
            "title": DEMO_PAPER_TITLE,
            "authors": "The Footprint demo (fictional)",
            "venue": "demo",
            "year": None,
            "arxiv_id": "",
            "doi": "",
            "url": "",
        },
    )
    present = {method: s for method, s in submissions_by_method.items() if method in EXAMPLE_METHODS}
    paper.submissions.add(*present.values())
    for method, fields in demo_claims(benchmark=benchmark).items():
        submission = present.get(method)
        if method != UNSUBMITTED_METHOD and submission is None:
            continue
        claim = Claim(
            paper=paper,
            benchmark=benchmark,
            hardware_class=hardware_class,
            submission=submission,
            method=method,
            **fields,
        )
        claim.full_clean()
        Claim.objects.update_or_create(
            paper=paper,
            method=method,
            defaults={
                "benchmark": benchmark,
                "hardware_class": hardware_class,
                "submission": submission,
                **{name: None for name in Claim.CLAIMED_FIELDS},
                "note": "",
                **fields,
            },
        )
    return paper
