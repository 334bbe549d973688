"""runners.meters.energy: RAPL discovery on fake powercap trees, wrap-around, idle
subtraction, the CPU-time estimate, and the figures a job publishes from its windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from runners import aggregate
from runners.meters import energy
from runners.meters.energy import JobEnergy, Span
from runners.result import ResultDocument


def _zone(root: Path, name: str, zone_name: str, energy_uj: int, max_uj: int = 262143328850) -> Path:
    zone = root / name
    zone.mkdir(parents=True)
    (zone / "name").write_text(zone_name + "\n")
    (zone / "energy_uj").write_text(f"{energy_uj}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return zone


class FakeCounter:
    def __init__(self, name: str = "rapl:package-0") -> None:
        self.name = name
        self.joules = 0.0

    def read_j(self) -> float:
        return self.joules


class FakeTime:
    """A clock and a sleep that advance together, burning `idle_w` on the counter meanwhile."""

    def __init__(self, counter: FakeCounter, idle_w: float) -> None:
        self.now = 100.0
        self.counter = counter
        self.idle_w = idle_w

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.counter.joules += self.idle_w * seconds


def test_it_counts_package_and_dram_zones_only(tmp_path: Path) -> None:
    package = _zone(tmp_path, "intel-rapl:0", "package-0", 1000)
    _zone(package, "intel-rapl:0:0", "core", 10)
    _zone(package, "intel-rapl:0:1", "uncore", 10)
    _zone(package, "intel-rapl:0:2", "dram", 10)
    _zone(tmp_path, "intel-rapl:1", "psys", 10)

    counters, notes = energy.rapl_counters(tmp_path)

    assert [c.name for c in counters] == ["rapl:package-0", "rapl:package-0:dram"]
    assert notes == []


def test_it_says_why_there_is_no_rapl(tmp_path: Path) -> None:
    counters, notes = energy.rapl_counters(tmp_path / "missing")
    assert counters == []
    assert "does not exist" in notes[0]

    tmp_path.joinpath("empty").mkdir()
    counters, notes = energy.rapl_counters(tmp_path / "empty")
    assert counters == [] and "no RAPL package zone" in notes[0]


def test_it_reports_an_unreadable_counter_instead_of_failing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _zone(tmp_path, "intel-rapl:0", "package-0", 1000)

    def denied(self: energy.RaplCounter) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(energy.RaplCounter, "_raw_uj", denied)
    counters, notes = energy.rapl_counters(tmp_path)

    assert counters == []
    assert "readable by root only" in notes[0] or "not readable" in notes[0]


def test_a_counter_accumulates_across_a_wrap(tmp_path: Path) -> None:
    zone = _zone(tmp_path, "intel-rapl:0", "package-0", 900_000, max_uj=999_999)
    counter = energy.RaplCounter("rapl:package-0", zone, 999_999)
    assert counter.read_j() == 0.0
    (zone / "energy_uj").write_text("950000\n")
    assert counter.read_j() == pytest.approx(0.05)
    (zone / "energy_uj").write_text("150000\n")  # wrapped: 49 999 + 1 + 150 000 uJ more
    assert counter.read_j() == pytest.approx(0.25)


def test_counters_give_gross_and_net_after_the_idle_power() -> None:
    counter = FakeCounter()
    fake = FakeTime(counter, idle_w=20.0)
    meter = JobEnergy(
        counters=[counter], notes=[], cpu_watts_per_core=None, idle_window_s=2.0, clock=fake.clock, sleep=fake.sleep
    )

    with meter.running():
        assert meter.idle_power_w == pytest.approx(20.0)
        window = meter.window(lambda: None)
        with window:
            fake.now += 10.0
            counter.joules += 500.0  # 20 W idle + 30 W of work for 10 s
        meter.record("serve", "submission", window.span, queries=1000)

    span = window.span
    assert span is not None and span.label == "measured"
    assert span.gross_j == pytest.approx(500.0)
    assert span.net_j == pytest.approx(300.0)
    assert meter.source == "rapl"
    provenance = meter.provenance()
    assert provenance["idle_power_w"] == pytest.approx(20.0)
    assert provenance["windows"][0]["net_j"] == pytest.approx(300.0)


def test_without_a_counter_it_estimates_from_the_containers_cpu_time() -> None:
    meter = energy.job_energy(cpu_watts_per_core=5.0, powercap_root=Path("/nonexistent"))
    cpu = iter([10.0, 12.5])

    with meter.running():
        window = meter.window(lambda: next(cpu))
        with window:
            pass

    span = window.span
    assert span is not None
    assert (span.label, span.cpu_s, span.net_j, span.gross_j) == ("estimated", 2.5, 12.5, None)
    provenance = meter.provenance()
    assert provenance["source"] == "estimate"
    assert provenance["estimate"] == {"cpu_watts_per_core": 5.0, "basis": "hardware class setting"}
    assert any("estimated from the container's CPU time" in note for note in provenance["notes"])


def test_without_a_counter_or_a_power_figure_there_is_no_energy() -> None:
    meter = energy.job_energy(cpu_watts_per_core=None, powercap_root=Path("/nonexistent"))
    window = meter.window(lambda: 3.0)
    with window:
        pass
    assert meter.label is None and window.span is not None and window.span.net_j is None
    doc = ResultDocument(run_id=1, attempt=1)
    meter.record("serve", "submission", window.span, queries=10)
    aggregate.energy_figures(doc, meter)
    assert doc.figures == []


def _figures(doc: ResultDocument) -> dict[tuple[str, str], dict]:
    return {(f["subject"], f["name"]): f for f in doc.figures}


def test_a_job_publishes_per_phase_per_inference_and_per_kwh_figures() -> None:
    meter = JobEnergy(counters=[FakeCounter()], notes=[], cpu_watts_per_core=None, idle_power_w=20.0)
    meter.record("compress", "submission", Span("measured", wall_s=60.0, gross_j=3000.0, net_j=1800.0))
    for net, queries in ((2.0, 1000), (3.0, 1000), (10.0, 1000)):
        meter.record(
            "serve", "submission", Span("measured", wall_s=1.0, gross_j=net + 20.0, net_j=net), queries=queries
        )
    meter.record("offline", "submission", Span("measured", wall_s=2.0, gross_j=76.0, net_j=36.0), samples=7200)
    doc = ResultDocument(run_id=1, attempt=1)

    aggregate.energy_figures(doc, meter)

    figures = _figures(doc)
    assert figures[("submission", "compress_energy_gross")]["value"] == 3000.0
    assert figures[("submission", "compress_energy_net")]["value"] == 1800.0
    assert figures[("submission", "serve_energy_gross")]["value"] == pytest.approx(75.0)
    assert figures[("submission", "serve_energy_net")]["value"] == pytest.approx(15.0)
    # Median of 2, 3 and 10 mJ per query: one disturbed repeat does not move it.
    assert figures[("submission", "energy_per_inference")]["value"] == pytest.approx(3.0)
    assert figures[("submission", "energy_per_inference")]["unit"] == "mJ"
    # 7200 samples for 36 J = 0.00001 kWh -> 720 million samples per kWh.
    assert figures[("submission", "samples_per_kwh")]["value"] == pytest.approx(7.2e8)
    assert figures[("reference", "idle_power")]["value"] == 20.0
    assert {f["label"] for f in doc.figures} == {"measured"}


def test_estimated_figures_carry_their_label_and_no_gross() -> None:
    meter = JobEnergy(counters=[], notes=[], cpu_watts_per_core=5.0)
    meter.record("serve", "reference", Span("estimated", wall_s=1.0, cpu_s=0.4, net_j=2.0), queries=1000)
    doc = ResultDocument(run_id=1, attempt=1)

    aggregate.energy_figures(doc, meter)

    figures = _figures(doc)
    assert figures[("reference", "energy_per_inference")] == {
        "subject": "reference",
        "name": "energy_per_inference",
        "value": pytest.approx(2.0),
        "unit": "mJ",
        "label": "estimated",
    }
    assert ("reference", "serve_energy_gross") not in figures
    assert ("reference", "idle_power") not in figures
