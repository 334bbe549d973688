"""Energy break-even: after how many inferences the method has saved its search energy.

n = ceil(search J / ((reference mJ - method mJ) / 1000)), from the reference's and the
submission's `energy_per_inference` measured in the same job. Arithmetic on the figures'
decimal values with fractions, so that an exact quotient is not pushed one inference up
by binary rounding. Formula and rules: docs/search-cost.md, "Energy break-even".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from budgets.costs import FigureLike, SearchCost
from core.units import J_PER_KWH, MJ_PER_J
from submissions.models import Figure

FIGURE_NAME = "energy_per_inference"
FIGURE_UNIT = "mJ"


def _exact(value: float, *, name: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    # repr() is the shortest decimal that reads back as the same float: the figure as shown.
    return Fraction(repr(float(value)))


def energy_break_even_inferences(
    *, search_j: float, reference_mj_per_inference: float, method_mj_per_inference: float
) -> int | None:
    """Inferences after which the method has saved at least `search_j`; None: never.

    Never: the method uses as much as the reference per inference or more. 0 when the
    search cost nothing and the method saves. Raises ValueError for a negative search
    energy or a per-inference energy that is not above 0 (a net figure lost in noise).
    """
    search = _exact(search_j, name="search_j")
    reference = _exact(reference_mj_per_inference, name="reference_mj_per_inference")
    method = _exact(method_mj_per_inference, name="method_mj_per_inference")
    if search < 0:
        raise ValueError(f"search_j is {search_j}; a search energy is >= 0")
    if reference <= 0 or method <= 0:
        raise ValueError(
            f"per-inference energies must be above 0 (reference {reference_mj_per_inference} mJ, "
            f"method {method_mj_per_inference} mJ)"
        )
    saving_mj = reference - method
    if saving_mj <= 0:
        return None
    return math.ceil(search * MJ_PER_J / saving_mj)


@dataclass(frozen=True)
class BreakEven:
    """The break-even of one result, or why there is none."""

    inferences: int | None  # None: never, or not computed (see never / reason)
    never: bool  # the method uses >= the reference's energy per inference
    reason: str  # why not computed, or why never; "" when computed
    label: str | None  # label shared by both per-inference figures
    search_j: float | None
    search_labels: tuple[str, ...]  # labels of the search energy (declared among them, if any)
    reference_mj_per_inference: float | None
    method_mj_per_inference: float | None

    @property
    def computed(self) -> bool:
        return self.inferences is not None

    @property
    def saving_mj_per_inference(self) -> float | None:
        if self.reference_mj_per_inference is None or self.method_mj_per_inference is None:
            return None
        return self.reference_mj_per_inference - self.method_mj_per_inference

    @property
    def has_declared(self) -> bool:
        return Figure.Label.DECLARED in self.search_labels


def break_even_for(*, cost: SearchCost, figures: Iterable[FigureLike]) -> BreakEven:
    """The break-even of a result from its search cost and its same-job energy figures."""
    per_inference = {
        f.subject: f for f in figures if f.name == FIGURE_NAME and f.subject in ("reference", "submission")
    }
    reference, method = per_inference.get("reference"), per_inference.get("submission")
    search_j = cost.total_j

    def result(*, inferences: int | None = None, never: bool = False, reason: str = "", label=None) -> BreakEven:
        return BreakEven(
            inferences=inferences,
            never=never,
            reason=reason,
            label=label,
            search_j=search_j,
            search_labels=cost.energy_labels,
            reference_mj_per_inference=reference.value if reference is not None else None,
            method_mj_per_inference=method.value if method is not None else None,
        )

    if reference is None or method is None:
        missing = " and ".join(s for s, f in (("the reference", reference), ("the submission", method)) if f is None)
        return result(reason=f"no energy per inference for {missing} in this job (no energy counter or estimate)")
    for figure in (reference, method):
        if figure.unit != FIGURE_UNIT or not math.isfinite(figure.value):
            return result(reason=f"the {figure.subject}'s energy per inference is not a finite figure in mJ")
    if reference.label != method.label:
        # A counter reading against a CPU-time estimate would compare two different things.
        return result(
            reason=(
                f"the reference's energy per inference is {reference.label} and the submission's {method.label}: "
                "measured and estimated figures are never compared"
            )
        )
    label = reference.label
    if reference.value <= 0 or method.value <= 0:
        return result(
            reason=(
                f"an energy per inference is not above 0 (reference {reference.value:.4g} mJ, submission "
                f"{method.value:.4g} mJ): the net energy is within the idle power's noise"
            ),
            label=label,
        )
    if method.value >= reference.value:
        return result(
            never=True,
            reason=(
                f"never: the method uses {method.value:.4g} mJ per inference, the reference "
                f"{reference.value:.4g} mJ; it saves no energy to pay its search back"
            ),
            label=label,
        )
    if search_j is None:
        return result(
            reason=(
                "the search energy is unknown (a part of it has no energy figure; at least "
                f"{cost.total_kwh_at_least * J_PER_KWH:.6g} J)"
            ),
            label=label,
        )
    inferences = energy_break_even_inferences(
        search_j=search_j,
        reference_mj_per_inference=reference.value,
        method_mj_per_inference=method.value,
    )
    return result(inferences=inferences, label=label)
