"""Energy break-even: exact arithmetic, "never", and no mixing of measured with estimated."""

from __future__ import annotations

import pytest

from budgets.breakeven import break_even_for, energy_break_even_inferences
from tests.factories.figures import figure, search_cost


def per_inference(reference_mj: float, method_mj: float, *, reference_label="measured", method_label="measured"):
    return [
        figure("reference", "energy_per_inference", reference_mj, "mJ", reference_label),
        figure("submission", "energy_per_inference", method_mj, "mJ", method_label),
        figure("null", "energy_per_inference", 0.01, "mJ", "measured"),
    ]


@pytest.mark.parametrize(
    ("search_j", "reference_mj", "method_mj", "inferences"),
    [
        (1000.0, 5.0, 3.0, 500_000),  # 1000 J / 2 mJ, exactly
        (1001.0, 5.0, 3.0, 500_500),
        (1.0, 4.0, 1.0, 334),  # 333.33...: the 334th inference pays it back
        # 0.3 - 0.2 is 0.09999999999999998 in floats: 7000.000000000001 and a naive 7001.
        (0.7, 0.3, 0.2, 7000),
        (0.0, 5.0, 3.0, 0),  # nothing to pay back
        (1e-9, 5.0, 3.0, 1),
    ],
)
def test_it_counts_the_inferences_to_pay_the_search_back(search_j, reference_mj, method_mj, inferences):
    assert (
        energy_break_even_inferences(
            search_j=search_j, reference_mj_per_inference=reference_mj, method_mj_per_inference=method_mj
        )
        == inferences
    )


@pytest.mark.parametrize(("reference_mj", "method_mj"), [(3.0, 3.0), (3.0, 3.5)])
def test_it_is_never_when_the_method_uses_as_much_or_more_per_inference(reference_mj, method_mj):
    assert (
        energy_break_even_inferences(
            search_j=0.0, reference_mj_per_inference=reference_mj, method_mj_per_inference=method_mj
        )
        is None
    )


@pytest.mark.parametrize(
    ("search_j", "reference_mj", "method_mj"),
    [(-1.0, 5.0, 3.0), (1.0, 0.0, 3.0), (1.0, 5.0, -0.5), (float("nan"), 5.0, 3.0), (1.0, float("inf"), 3.0)],
)
def test_it_refuses_inputs_that_are_not_energies(search_j, reference_mj, method_mj):
    with pytest.raises(ValueError):
        energy_break_even_inferences(
            search_j=search_j, reference_mj_per_inference=reference_mj, method_mj_per_inference=method_mj
        )


def test_a_result_breaks_even_on_its_total_search_energy():
    search = {"device_type": "GPU", "device_count": 1, "hours": 1.0, "energy_kwh": 1.0}
    c = search_cost(energy_j=3.6e6, search=search)  # 1 kWh measured + 1 kWh declared = 7.2e6 J
    be = break_even_for(cost=c, figures=per_inference(10.0, 4.0))
    assert be.inferences == 1_200_000_000  # 7.2e6 J / 6 mJ
    assert be.never is False and be.reason == "" and be.label == "measured"
    assert be.search_labels == ("declared", "measured") and be.has_declared
    assert be.saving_mj_per_inference == 6.0


def test_estimated_figures_break_even_labelled_estimated():
    be = break_even_for(
        cost=search_cost(energy_j=36.0, label="estimated"),
        figures=per_inference(2.0, 1.0, reference_label="estimated", method_label="estimated"),
    )
    assert (be.inferences, be.label) == (36_000, "estimated")


def test_it_never_mixes_a_measured_with_an_estimated_figure():
    be = break_even_for(cost=search_cost(energy_j=36.0), figures=per_inference(2.0, 1.0, method_label="estimated"))
    assert be.inferences is None and be.never is False
    assert "measured and estimated figures are never compared" in be.reason


def test_a_result_whose_method_costs_more_per_inference_never_breaks_even():
    be = break_even_for(cost=search_cost(energy_j=None), figures=per_inference(2.0, 2.5))
    assert be.inferences is None and be.never is True  # whatever the (unknown) search energy
    assert be.reason.startswith("never")


def test_an_unknown_search_energy_gives_no_break_even():
    be = break_even_for(cost=search_cost(energy_j=None), figures=per_inference(2.0, 1.0))
    assert be.inferences is None and be.never is False
    assert "search energy is unknown" in be.reason


def test_a_missing_per_inference_figure_is_named():
    be = break_even_for(cost=search_cost(energy_j=1.0), figures=per_inference(2.0, 1.0)[1:])
    assert be.inferences is None and "the reference" in be.reason


def test_a_per_inference_energy_at_or_below_zero_gives_no_break_even():
    be = break_even_for(cost=search_cost(energy_j=1.0), figures=per_inference(2.0, -0.1))
    assert be.inferences is None and be.never is False and "not above 0" in be.reason
