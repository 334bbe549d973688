"""run_energy and run_provenance: the run page's energy and provenance blocks, old results included."""

from __future__ import annotations

import json

import pytest

from submissions.models import Result, Run
from submissions.selectors import NO_GROSS_TITLE, run_energy, run_provenance, run_result_figures
from submissions.services import run_ingest_result
from tests.factories.documents import energy_result_document, result_document

pytestmark = pytest.mark.django_db


def _ingest(run: Run, document: dict) -> Run:
    run_ingest_result(document=document)
    run = Run.objects.get(pk=run.pk)
    assert run.state == Run.SUCCEEDED, run.failure_reason
    return run


def _quantities(energy) -> dict[tuple[str, str], object]:
    return {(block.subject, q.name): q for block in energy.subjects for q in block.quantities}


def test_estimated_energy_has_its_figures_no_gross_and_says_how_it_was_estimated(run):
    run = _ingest(run, energy_result_document(run.pk))
    energy = run_energy(run=run, figures=run_result_figures(run=run))
    assert energy.has_figures
    assert [block.subject for block in energy.subjects] == ["reference", "submission", "null"]
    quantities = _quantities(energy)
    per_inference = quantities[("submission", "energy_per_inference")]
    assert (per_inference.figure.value, per_inference.figure.label) == (0.41, "estimated")
    net = quantities[("submission", "serve_energy_net")]
    assert net.kwh == pytest.approx(1.25 / 3.6e6)
    gross = quantities[("submission", "serve_energy_gross")]
    assert gross.figure is None and gross.missing_title == NO_GROSS_TITLE
    assert quantities[("submission", "compress_energy_net")].figure.value == 36.0
    assert ("reference", "compress_energy_net") not in quantities  # compress is the submission's
    assert ("reference", "idle_power") not in quantities  # only counters measure idle power
    assert energy.source == "estimate"
    assert energy.estimate_text == "CPU time \u00d7 5 W per core, hardware class setting"
    assert energy.notes == ["no /sys/class/powercap on this host"]


def test_measured_energy_has_gross_kwh_idle_power_and_counters(run):
    run = _ingest(run, energy_result_document(run.pk, measured=True))
    energy = run_energy(run=run, figures=run_result_figures(run=run))
    quantities = _quantities(energy)
    assert quantities[("submission", "serve_energy_net")].kwh == pytest.approx(2.0)
    assert quantities[("submission", "serve_energy_gross")].kwh == pytest.approx(2.5)
    assert quantities[("reference", "idle_power")].figure.value == 12.5
    assert "batch_sizes" in quantities[("submission", "samples_per_kwh")].missing_title
    # The null server has no energy figure in this result: it is left out, not a row of dashes.
    assert [block.subject for block in energy.subjects] == ["reference", "submission"]
    assert energy.counters == ["rapl:package-0", "rapl:package-0:dram"]
    assert (energy.idle_power_w, energy.idle_window_s) == (12.5, 3.0)
    assert energy.estimate_text == ""


def test_a_figure_in_another_unit_than_the_contract_is_not_shown(run):
    run = _ingest(run, energy_result_document(run.pk))
    run.result.figures.filter(subject="submission", name="energy_per_inference").update(unit="J")
    energy = run_energy(run=run, figures=run_result_figures(run=run))
    assert _quantities(energy)[("submission", "energy_per_inference")].figure is None


def test_the_provenance_block_reads_host_gpus_images_runtimes_seeds_and_limits(run):
    run = _ingest(run, energy_result_document(run.pk))
    provenance = run_provenance(run=run)
    host = {entry.name: entry.text for entry in provenance.host}
    assert host["CPU model"] == "Test CPU 9000 @ 3 GHz"
    assert host["CPUs on the host"] == "16"
    assert host["memory"] == "68,719,476,736 bytes (64.00 GiB)"
    assert host["Docker"] == "Docker 24.0.7, cgroup v2"
    assert provenance.gpus == []
    assert provenance.gpu_notes == "NVML not found (libnvidia-ml.so.1 missing)"
    placement = {entry.name: entry.text for entry in provenance.placement}
    assert (placement["container cpuset"], placement["harness CPUs"]) == ("3", "3")
    artifacts = {entry.name: entry.text for entry in provenance.artifacts}
    assert artifacts["tarball sha256"] == "d" * 64
    assert artifacts["runtime image"] == "footprint/runtime:1"
    assert [entry.name for entry in provenance.runtimes] == ["reference", "submission", "null server"]
    measurement = {entry.name: entry.text for entry in provenance.measurement}
    assert measurement["seed"] == "1234"
    assert measurement["repeats (fresh servers per subject)"] == "2"
    limits = {entry.name: entry.text for entry in provenance.limits}
    assert limits["memory_bytes"] == "2,147,483,648 bytes (2.00 GiB)"
    assert limits["pids"] == "256"


def test_the_provenance_json_leaves_the_raw_latencies_out(run):
    run = _ingest(run, energy_result_document(run.pk))
    shown = json.loads(run_provenance(run=run).json_text)
    assert "latency_samples_us" not in shown
    assert shown["latency_repeats"]["reference"][0]["queries"] == 3
    assert shown["energy"]["source"] == "estimate"


def test_gpus_are_listed_with_their_driver(run):
    document = energy_result_document(run.pk, measured=True)
    document["provenance"]["runner"]["gpus"] = [
        {"index": 0, "name": "NVIDIA H100", "uuid": "GPU-1234", "driver_version": "550.54", "memory_total_bytes": 80e9}
    ]
    run = _ingest(run, document)
    (gpu,) = run_provenance(run=run).gpus
    # The model, its driver and memory; not its serial UUID, which says nothing about a result.
    assert (gpu.index, gpu.name, gpu.uuid, gpu.driver_version, gpu.memory_total_bytes) == (
        "0",
        "NVIDIA H100",
        "",
        "550.54",
        80e9,
    )


def test_an_old_result_without_any_new_key_reads_as_absent(run):
    run = _ingest(run, result_document(run.pk))  # no energy, runtimes, gpus, samples
    energy = run_energy(run=run, figures=run_result_figures(run=run))
    assert not energy.has_figures
    assert (energy.source, energy.counters, energy.notes, energy.estimate_text) == (None, [], [], "")
    provenance = run_provenance(run=run)
    assert provenance.present
    assert "host" not in {entry.name for entry in provenance.host}  # which machine: operators only
    assert provenance.gpus == [] and provenance.gpu_notes == ""
    assert provenance.runtimes == [] and provenance.limits == []


def test_malformed_provenance_values_are_shown_as_absent_not_an_error(run):
    run = _ingest(run, result_document(run.pk))
    Result.objects.filter(run=run).update(
        provenance={
            "runner": "not an object",
            "energy": {"source": 3, "counters": "rapl:package-0", "estimate": {"cpu_watts_per_core": "lots"}},
            "runtimes": ["a list"],
            "limits": None,
        }
    )
    run = Run.objects.get(pk=run.pk)
    energy = run_energy(run=run, figures=run_result_figures(run=run))
    assert energy.source is None and energy.counters == ["rapl:package-0"]
    provenance = run_provenance(run=run)
    assert provenance.runtimes == [] and provenance.limits == []
    assert all(entry.text == "" for entry in provenance.host)


def test_a_run_without_a_result_has_no_blocks(run):
    assert not run_provenance(run=run).present
    assert not run_energy(run=run, figures=[]).has_figures
