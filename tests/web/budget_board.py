"""The page tests' demo board with budget tracks and search costs (docs/search-cost.md).

Added to `demo` (tests/web/conftest.py), whose entries have no compress energy (their
total is unknown: large-lab only):

| entry | speed-up | totals | track | declared |
|---|---|---|---|---|
| at the limit | 1.5x | 24 device-hours, 10 kWh exactly | small-lab | yes |
| just above | 3.0x | 24 device-hours, 10.001 kWh | medium | yes |
| measured small | 1.3x | 1 device-hour, 1 kWh (estimated) | small-lab | no |
| private small | 9.0x | 1 device-hour, 1 kWh, unpublished | small-lab | no |
"""

from __future__ import annotations

from dataclasses import dataclass

from budgets.services import tracks_ensure_defaults
from submissions.models import Run
from tests.platform.budget_entries import entry, search, trial_log
from tests.web.conftest import Demo

GRID_G_PER_KWH = 480.0
HOSTILE = '<script>alert("x")</script>'


@dataclass
class BudgetBoard:
    demo: Demo
    at_limit: Run
    just_above: Run
    measured_small: Run
    private_small: Run

    @property
    def url(self) -> str:
        return self.demo.leaderboard_url


def budget_board(demo: Demo) -> BudgetBoard:
    tracks_ensure_defaults(benchmark=demo.benchmark)
    demo.hardware_class.grid_intensity_g_per_kwh = GRID_G_PER_KWH
    demo.hardware_class.save()

    def add(name: str, **fields) -> Run:
        return entry(
            owner=demo.owner, benchmark=demo.benchmark, hardware_class=demo.hardware_class, name=name, **fields
        )

    return BudgetBoard(
        demo=demo,
        at_limit=add(
            "at the limit",
            speedup=1.5,
            search=search(device_count=23, hours=1.0, energy_kwh=9.0, trials=7, note=f"grid search {HOSTILE}"),
            trials=trial_log([0.90, None, 0.93, 0.91, 0.95, 0.94, 0.96], energy_kwh=9.0 / 7),
            per_inference_mj=(0.5, 0.3, "measured"),
        ),
        just_above=add(
            "just above",
            speedup=3.0,
            search=search(device_count=23, hours=1.0, energy_kwh=9.001),
            per_inference_mj=(0.3, 0.5, "measured"),
        ),
        measured_small=add("measured small", speedup=1.3, compress_energy_label="estimated"),
        private_small=add("private small", speedup=9.0, published=False),
    )
