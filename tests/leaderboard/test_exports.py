"""The leaderboard's export rows: every value with its label, search cost parts apart, break-even."""

from __future__ import annotations

import pytest

from leaderboard.exports import CSV_COLUMNS, csv_row, export_document, export_entries
from leaderboard.selectors import leaderboard_track_board
from submissions.services import result_invalidate
from tests.factories.documents import audit, failed_timed_predictions
from tests.factories.figures import search

pytestmark = pytest.mark.django_db

# Values and the column that labels them, side by side.
LABELLED = {
    "accuracy": "accuracy_label",
    "speedup": "speedup_label",
    "compression_ratio": "compression_ratio_label",
    "theoretical_speedup": "theoretical_speedup_label",
    "energy_per_inference_mj": "energy_per_inference_mj_label",
    "reference_energy_per_inference_mj": "reference_energy_per_inference_mj_label",
    "measured_device_hours": "measured_device_hours_label",
    "measured_kwh": "measured_kwh_label",
    "declared_device_hours": "declared_device_hours_label",
    "declared_kwh": "declared_kwh_label",
    "total_device_hours": "total_device_hours_labels",
    "total_kwh": "total_kwh_labels",
    "co2e_grams": "co2e_labels",
}


@pytest.fixture
def add(add_entry, hardware_class):
    hardware_class.grid_intensity_g_per_kwh = 400.0
    hardware_class.save()
    return lambda name, **fields: add_entry(name=name, **fields)


def _rows(benchmark, hardware_class, **kwargs) -> dict[str, dict[str, object]]:
    tracked = leaderboard_track_board(benchmark=benchmark, hardware_class=hardware_class, **kwargs)
    return {
        entry["method"]: dict(zip(CSV_COLUMNS, csv_row(entry), strict=True))
        for entry in export_entries(tracked=tracked)
    }


def test_every_value_has_its_label_in_the_next_column():
    for value, label in LABELLED.items():
        assert CSV_COLUMNS.index(label) == CSV_COLUMNS.index(value) + 1, value
    for required in ("rank", "method", "submission_id", "run_id", "track", "declared", "break_even_inferences"):
        assert required in CSV_COLUMNS


def test_a_declared_search_is_marked_and_kept_apart_from_the_measured_part(add, benchmark, hardware_class):
    run = add("declared", search=search(device_count=4, hours=2.0, energy_kwh=3.0, trials=40))
    row = _rows(benchmark, hardware_class)["declared"]
    assert (row["submission_id"], row["run_id"], row["rank"]) == (run.submission_id, run.pk, 1)
    assert (row["track"], row["declared"]) == ("small-lab", "true")
    assert (row["measured_device_hours"], row["measured_device_hours_label"]) == (1.0, "measured")
    assert (row["measured_kwh"], row["measured_kwh_label"]) == (1.0, "measured")
    assert (row["declared_device_hours"], row["declared_device_hours_label"]) == (8.0, "declared")
    assert (row["declared_kwh"], row["declared_kwh_label"], row["declared_kwh_basis"]) == (
        3.0,
        "declared",
        "energy_kwh",
    )
    assert row["declared_trials"] == 40
    assert (row["total_device_hours"], row["total_device_hours_labels"]) == (9.0, "declared+measured")
    assert (row["total_kwh"], row["total_kwh_labels"]) == (4.0, "declared+measured")
    assert (row["co2e_grams"], row["co2e_labels"], row["grid_intensity_g_per_kwh"]) == (
        1600.0,
        "declared+measured",
        400.0,
    )


def test_a_measured_only_entry_has_empty_declared_columns(add, benchmark, hardware_class):
    add("measured", compress_energy_label="estimated")
    row = _rows(benchmark, hardware_class)["measured"]
    assert row["declared"] == "false"
    assert [row[c] for c in ("declared_device_hours", "declared_kwh", "declared_kwh_label")] == ["", "", ""]
    assert (row["measured_kwh_label"], row["total_kwh_labels"], row["total_device_hours_labels"]) == (
        "estimated",
        "estimated",
        "measured",
    )


def test_a_declared_search_without_energy_leaves_the_total_unknown_and_still_says_declared(
    add, benchmark, hardware_class
):
    add("no energy", search=search(device_count=2, hours=3.0))
    row = _rows(benchmark, hardware_class)["no energy"]
    assert (row["declared"], row["declared_kwh"], row["declared_kwh_basis"]) == ("true", "", "unknown")
    assert (row["total_kwh"], row["total_kwh_at_least"], row["total_kwh_labels"]) == ("", 1.0, "declared+measured")
    assert row["co2e_grams"] == "" and "total energy is unknown" in row["co2e_reason"]
    assert row["track"] == "large-lab"


def test_break_even_is_a_count_never_or_empty_with_a_reason(add, benchmark, hardware_class):
    add("saves", per_inference_mj=(0.5, 0.3, "measured"))
    add("costs more", per_inference_mj=(0.3, 0.5, "measured"))
    add("no figure")
    rows = _rows(benchmark, hardware_class)
    # 1 kWh of search = 3.6e6 J; 0.2 mJ saved per inference.
    assert (rows["saves"]["break_even_inferences"], rows["saves"]["break_even_label"]) == (18_000_000_000, "measured")
    assert rows["costs more"]["break_even_inferences"] == "never"
    assert rows["costs more"]["break_even_reason"].startswith("never: the method uses 0.5 mJ per inference")
    assert rows["no figure"]["break_even_inferences"] == ""
    assert "no energy per inference" in rows["no figure"]["break_even_reason"]


def test_the_json_document_keeps_the_parts_and_says_never_as_a_string(add, benchmark, hardware_class):
    add("costs more", per_inference_mj=(0.3, 0.5, "estimated"), search=search(energy_kwh=2.0))
    tracked = leaderboard_track_board(benchmark=benchmark, hardware_class=hardware_class, track_slug="small-lab")
    document = export_document(tracked=tracked)
    assert document["track"]["slug"] == "small-lab" and document["track"]["max_kwh"] == 10.0
    assert [t["slug"] for t in document["tracks"]] == ["small-lab", "medium", "large-lab"]
    (only,) = document["entries"]
    assert only["declared"] is True and only["track"] == "small-lab"
    assert only["search_cost"]["measured"]["label"] == "measured"
    assert only["search_cost"]["declared"]["label"] == "declared"
    assert only["search_cost"]["total"]["labels"] == ["declared", "measured"]
    assert only["energy_break_even"]["inferences"] == "never" and only["energy_break_even"]["never"] is True
    assert only["figures"]["energy_per_inference_mj"] == {"value": 0.5, "unit": "mJ", "label": "estimated"}


def test_a_name_a_spreadsheet_would_run_is_written_as_text(add, benchmark, hardware_class):
    add('=HYPERLINK("http://evil.example","x")')
    (row,) = _rows(benchmark, hardware_class).values()
    assert row["method"] == '\'=HYPERLINK("http://evil.example","x")'


def test_the_exports_mark_an_entry_whose_audit_failed_with_the_audit_its_figure_and_sentence(
    add, benchmark, hardware_class
):
    add("honest", speedup=1.5, audits=[audit("timed_predictions", "passed")])
    add("cheater", speedup=9.0, audits=[audit("caching", "passed"), failed_timed_predictions(rate=0.9)])
    rows = _rows(benchmark, hardware_class)
    assert (rows["honest"]["rank"], rows["honest"]["status"], rows["honest"]["unranked_reason"]) == (1, "ranked", "")
    cheater = rows["cheater"]
    assert (cheater["rank"], cheater["status"], cheater["failed_audits"]) == ("", "audit_failed", "timed_predictions")
    assert "audit timed_predictions" in cheater["unranked_reason"]
    assert "prediction_mismatch_rate 90.00 %" in cheater["unranked_reason"]
    assert "90% of the timed replies differ" in cheater["unranked_reason"]

    document = export_document(tracked=leaderboard_track_board(benchmark=benchmark, hardware_class=hardware_class))
    entry = next(e for e in document["entries"] if e["method"] == "cheater")
    assert (entry["rank"], entry["status"], entry["invalidation"]) == (None, "audit_failed", None)
    assert [(a["name"], a["verdict"], a["figure"], a["value"]) for a in entry["audits"]] == [
        ("caching", "passed", None, None),
        ("timed_predictions", "failed", "prediction_mismatch_rate", 0.9),
    ]
    assert [e["method"] for e in document["entries"]] == ["honest", "cheater"]  # the page's order


def test_the_exports_mark_an_invalidated_entry_with_the_operators_reason(add, benchmark, hardware_class, owner):
    run = add("invalidated", speedup=3.0)
    result_invalidate(result=run.result, by=owner, reason="the image reads the test labels")
    row = _rows(benchmark, hardware_class)["invalidated"]
    assert (row["rank"], row["status"]) == ("", "invalidated")
    assert row["unranked_reason"].startswith("invalidated by an operator on ")
    assert row["unranked_reason"].endswith(": the image reads the test labels")
    document = export_document(tracked=leaderboard_track_board(benchmark=benchmark, hardware_class=hardware_class))
    [entry] = document["entries"]
    assert entry["invalidation"]["reason"] == "the image reads the test labels"
    assert entry["status"] == "invalidated"


def test_the_reason_column_says_why_an_entry_under_the_floor_has_no_rank(add, benchmark, hardware_class):
    add("sloppy", accuracy=0.5, meets_accuracy_floor=False)
    row = _rows(benchmark, hardware_class)["sloppy"]
    assert (row["status"], row["meets_accuracy_floor"]) == ("under_accuracy_floor", "false")
    assert "under the accuracy floor (98 % of the reference's accuracy in the same job)" in row["unranked_reason"]
