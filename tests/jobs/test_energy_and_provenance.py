"""Whole jobs: energy figures (estimated on these counter-less machines), runtime statistics,
runtime versions and the host's GPU fingerprint in the provenance."""

from __future__ import annotations

import pytest

from runners.meters import energy

COPY_REFERENCE = """#!/usr/bin/env python3
import shutil, footprint_sdk
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
footprint_sdk.write_method("copy of the reference", batch_sizes=[32])
"""

pytestmark = pytest.mark.skipif(
    bool(energy.rapl_counters()[0]), reason="this host has RAPL counters: the figures are measured, not estimated"
)


def image(build_test_image, **scripts: str) -> str:
    files = {f"bin/{name}": text for name, text in scripts.items()}
    return build_test_image("COPY bin/ /usr/local/bin/\n", files)


def by_key(document: dict) -> dict[tuple[str, str], dict]:
    return {(f["subject"], f["name"]): f for f in document["figures"]}


def test_without_counters_energy_is_estimated_from_cpu_time_and_labelled_so(build_test_image, job_spec, run):
    spec = job_spec(image(build_test_image, compress=COPY_REFERENCE))
    spec["hardware_class"]["cpu_watts_per_core"] = 5.0

    document, _ = run(spec)

    assert document["status"] == "succeeded", document["failure"]
    got = by_key(document)
    provenance = document["provenance"]["energy"]
    assert provenance["source"] == "estimate"
    assert provenance["estimate"] == {"cpu_watts_per_core": 5.0, "basis": "hardware class setting"}
    assert any("powercap" in note for note in provenance["notes"])
    energy_figures = [f for f in document["figures"] if f["unit"] in ("J", "mJ", "W", "samples/kWh")]
    assert energy_figures and {f["label"] for f in energy_figures} == {"estimated"}
    # The compress container's CPU time, priced at 5 W per busy core.
    cpu_s = document["phases"]["compress"]["cpu_s"]
    assert got[("submission", "compress_energy_net")]["value"] == pytest.approx(cpu_s * 5.0)
    assert ("submission", "compress_energy_gross") not in got  # no gross without a counter
    for subject in ("null", "reference", "submission"):
        per_inference = got[(subject, "energy_per_inference")]
        assert per_inference["unit"] == "mJ"
        windows = [w for w in provenance["windows"] if w["phase"] == "serve" and w["subject"] == subject]
        assert len(windows) == spec["measurement"].get("repeats", 1)
        assert all(w["queries"] >= 64 and w["cpu_s"] is not None for w in windows)
        # At most one whole core for the whole wall time of its timed blocks, per query (a
        # polling server stays busy between queries too: the harness's own gap is in it). The
        # null server's blocks last about a millisecond, where the kernel's CPU accounting at
        # the windows' edges adds a few percent: hence the margin.
        wall_per_query_s = max(w["wall_s"] / w["queries"] for w in windows)
        assert 0 < per_inference["value"] <= 5.0 * wall_per_query_s * 1000 * 1.25
    for subject in ("reference", "submission"):
        assert got[(subject, "samples_per_kwh")]["value"] > 0
        assert got[(subject, "samples_per_kwh")]["unit"] == "samples/kWh"

    # The same job's provenance: the runtimes in their own words, their stats, the host's GPUs.
    assert document["provenance"]["runtimes"]["reference"].startswith("footprint-serve (torch ")
    assert "cpu" in document["provenance"]["runtimes"]["submission"]
    assert document["provenance"]["runtimes"]["null"]
    for subject in ("reference", "submission"):
        assert document["provenance"]["runtime_stats"][subject][0] == {"device": "cpu", "torch_num_threads": 1}
    assert document["provenance"]["runner"]["gpus"] == []
    assert document["provenance"]["runner"]["gpu_notes"]  # why there is none, in words


def test_without_counters_or_a_power_figure_there_are_no_energy_figures(build_test_image, job_spec, run):
    document, _ = run(job_spec(image(build_test_image, compress=COPY_REFERENCE)))

    assert document["status"] == "succeeded", document["failure"]
    assert not [f for f in document["figures"] if f["unit"] in ("J", "mJ", "W", "samples/kWh")]
    assert document["provenance"]["energy"]["source"] == "none"
    assert "no cpu_watts_per_core" in " ".join(document["provenance"]["energy"]["notes"])
