"""What the leaderboard sorts, filters and counts in the database: one row per stored result.

A result never changes once stored (its figures, audits and document are written once, at
ingestion), so what a board needs of it is read once into a BoardEntry
(leaderboard.entries), and a board's filters, order and counts read one table.

What can change after ingestion: whether the submission is published, and an operator's
invalidation, are copied here and kept in step by the database itself (triggers on
submissions_submission and submissions_resultinvalidation, migration leaderboard/0002),
whoever changes them (a page, the admin, the API, a bulk update); which run of a submission
is its latest is marked when the newer entry is written; the tracks' limits are read live.
"""

from __future__ import annotations

from django.db import models

from submissions.models import Result, Run, Submission

# Conditions of an entry that is neither invalidated nor failed an audit.
KEPT = {"invalidated": False, "failed_audits": 0}
# A board in the ranking's order (leaderboard.selectors._default_order).
RANKING_ORDER = (
    "benchmark_id",
    "hardware_class_id",
    "-speedup_measured",
    "-rank_speedup",
    "-accuracy",
    "finished_at",
    "submission",
)
# What the board's filters and keys read, held in its indexes.
FILTERED = ("result", "division", "flag_names", "total_device_hours", "total_kwh")


class BoardEntry(models.Model):
    """The figures of one succeeded result that a board sorts and filters on, pivoted.

    Every figure is the submission's figure of the same name in the contract's unit (None:
    absent, or in another unit); `labels` maps each attribute to the figure's label.
    """

    result = models.OneToOneField(Result, on_delete=models.CASCADE, primary_key=True, related_name="board_entry")
    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    # Copied from the run and the submission: neither changes once a run succeeded.
    benchmark_id = models.BigIntegerField()
    hardware_class_id = models.BigIntegerField()
    division = models.CharField(max_length=16)
    finished_at = models.DateTimeField(null=True)

    accuracy = models.FloatField(null=True)
    accuracy_delta = models.FloatField(null=True)
    latency_p50_us = models.FloatField(null=True)
    latency_p90_us = models.FloatField(null=True)
    speedup = models.FloatField(null=True)
    speedup_ci_low = models.FloatField(null=True)
    speedup_ci_high = models.FloatField(null=True)
    compression_ratio = models.FloatField(null=True)
    theoretical_speedup = models.FloatField(null=True)
    serve_peak_memory_bytes = models.FloatField(null=True)
    compress_wall_s = models.FloatField(null=True)
    energy_per_inference_mj = models.FloatField(null=True)
    reference_energy_per_inference_mj = models.FloatField(null=True)
    labels = models.JSONField(default=dict)

    # Ranked by measured speed-ups only; the energy column sorts measured, estimated,
    # declared and missing apart (leaderboard.sorting.LABEL_GROUPED_SORTS).
    speedup_measured = models.BooleanField()
    energy_group = models.PositiveSmallIntegerField()
    meets_accuracy_floor = models.BooleanField()
    failed_audits = models.PositiveIntegerField()
    # The result's flags and the board's own ("smaller_not_faster"), each between spaces
    # (" unstable smaller_not_faster "), so that a filter is a substring test on any database.
    flag_names = models.CharField(max_length=500)
    # Search cost totals (budgets.costs.SearchCost): None is unknown, never 0. `gpus` is the
    # hardware class's GPU count they were computed with.
    total_device_hours = models.FloatField(null=True)
    total_kwh = models.FloatField(null=True)
    has_declared = models.BooleanField()
    gpus = models.PositiveSmallIntegerField()
    # The submission's `published` and whether an operator invalidated the result, kept in
    # step by triggers (see the module's docstring).
    published = models.BooleanField()
    invalidated = models.BooleanField(default=False)
    # The measured speed-up, None when it is not measured: the ranking's first key after
    # speedup_measured, so that an index holds the ranking's order.
    rank_speedup = models.FloatField(null=True)
    # A newer succeeded run of the same submission on the same class has an entry: this one
    # is off its boards. Set when that entry is written (leaderboard.entries.entries_ensure).
    superseded = models.BooleanField(default=False)

    class Meta:
        # The board's indexes cover its entries only (not superseded, published), each holding
        # what a filter reads (division, flags, totals), so that a board is read from them.
        indexes = (
            models.Index(fields=("submission", "hardware_class_id", "finished_at"), name="entry_submission_runs"),
            # The newest entry of a board: where the check for results without one starts.
            models.Index(fields=("benchmark_id", "hardware_class_id", "result"), name="entry_board_results"),
            # The ranking in its own order: a page of it is read from the index.
            models.Index(
                fields=RANKING_ORDER,
                include=FILTERED,
                condition=models.Q(superseded=False, published=True, **KEPT, meets_accuracy_floor=True),
                name="entry_board_ranking",
            ),
            # The tables listed apart, in the same order.
            models.Index(
                fields=RANKING_ORDER,
                include=FILTERED,
                condition=models.Q(superseded=False, published=True, **KEPT, meets_accuracy_floor=False),
                name="entry_board_under_floor",
            ),
            models.Index(
                fields=RANKING_ORDER,
                include=FILTERED,
                condition=models.Q(superseded=False, published=True)
                & (models.Q(invalidated=True) | models.Q(failed_audits__gt=0)),
                name="entry_board_withheld",
            ),
            # The entries under the floor by latency, the board's most read order after its own.
            models.Index(
                fields=("benchmark_id", "hardware_class_id", "latency_p50_us"),
                include=FILTERED,
                condition=models.Q(superseded=False, published=True, **KEPT, meets_accuracy_floor=False),
                name="entry_under_floor_latency",
            ),
            models.Index(
                fields=("benchmark_id", "hardware_class_id", "finished_at"),
                condition=models.Q(superseded=False, published=True),
                name="entry_board_latest",
            ),
            # The Pareto fronts walk the ranking's entries in order of cost.
            models.Index(
                fields=("benchmark_id", "hardware_class_id", "latency_p50_us", "-accuracy"),
                include=FILTERED,
                condition=models.Q(superseded=False, published=True, **KEPT, meets_accuracy_floor=True),
                name="entry_board_latency",
            ),
            models.Index(
                fields=("benchmark_id", "hardware_class_id", "energy_group", "energy_per_inference_mj", "-accuracy"),
                include=FILTERED,
                condition=models.Q(superseded=False, published=True, **KEPT, meets_accuracy_floor=True),
                name="entry_board_energy",
            ),
        )

    def __str__(self) -> str:
        return f"board entry of run {self.run_id}"
