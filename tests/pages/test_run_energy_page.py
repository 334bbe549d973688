"""The run page's Energy and Provenance blocks, for new results and for old ones lacking the keys."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from submissions.models import Result, Run
from submissions.services import run_ingest_result
from tests.factories.documents import energy_result_document, result_document
from tests.factories.rows import make_run, make_submission
from tests.factories.scenes import Demo

pytestmark = pytest.mark.django_db


def _measured_run(demo: Demo, document_for) -> Run:
    submission = make_submission(owner=demo.owner, benchmark=demo.benchmark)
    run = Run.objects.create(submission=submission, hardware_class=demo.hardware_class)
    run_ingest_result(document=document_for(run.pk))
    run = Run.objects.get(pk=run.pk)
    assert run.state == Run.SUCCEEDED, run.failure_reason
    return run


def _energy_row(body: str, subject: str, name: str) -> str:
    match = re.search(rf'<tr data-subject="{subject}" data-figure="{name}">(.*?)</tr>', body, re.DOTALL)
    assert match, f"no energy row {subject} {name}"
    return match.group(1)


def test_estimated_energy_shows_its_label_and_how_it_was_estimated(client: Client, demo: Demo) -> None:
    run = _measured_run(demo, energy_result_document)
    body = client.get(f"/runs/{run.pk}/").content.decode()
    row = _energy_row(body, "submission", "energy_per_inference")
    assert "0.410 mJ" in row
    assert '<span class="label" title="this figure is estimated, not measured">estimated</span>' in row
    assert "CPU time \u00d7 5 W per core, hardware class setting" in row
    net = _energy_row(body, "submission", "serve_energy_net")
    assert "1.25 J" in net and "3.47e-07 kWh" in net
    gross = _energy_row(body, "submission", "serve_energy_gross")
    assert "&mdash;" in gross and "an estimate from CPU time has no gross" in gross
    assert "2,500,000,000 samples/kWh" in _energy_row(body, "submission", "samples_per_kwh")
    assert "36.0 J" in _energy_row(body, "submission", "compress_energy_net")
    assert _energy_row(body, "null", "energy_per_inference")
    source = re.search(r'<p class="small" id="energy-source">(.*?)</p>', body, re.DOTALL).group(1)
    assert 'data-source="estimate"' in source and "no energy counter was readable" in source
    assert "<li>no /sys/class/powercap on this host</li>" in body


def test_measured_energy_shows_gross_kwh_idle_power_and_counters(client: Client, demo: Demo) -> None:
    run = _measured_run(demo, lambda run_id: energy_result_document(run_id, measured=True))
    body = client.get(f"/runs/{run.pk}/").content.decode()
    net = _energy_row(body, "submission", "serve_energy_net")
    assert "7,200,000 J" in net and "2.00 kWh" in net and "measured" in net
    gross = _energy_row(body, "submission", "serve_energy_gross")
    assert "9,000,000 J" in gross and "2.50 kWh" in gross
    assert "12.5 W" in _energy_row(body, "reference", "idle_power")
    assert "<code>rapl:package-0</code>, <code>rapl:package-0:dram</code>" in body
    assert "Idle power 12.5 W, measured over 3.00 s before the job" in body
    assert "CPU time \u00d7" not in body
    assert 'data-subject="null"' not in body  # no energy figure of the null server in this result


def test_the_provenance_block_shows_the_host_images_runtimes_and_the_escaped_json(client: Client, demo: Demo) -> None:
    def document(run_id: int) -> dict:
        doc = energy_result_document(run_id)
        doc["provenance"]["runtimes"]["submission"] = "<script>alert(1)</script> torch 2.13"
        return doc

    run = _measured_run(demo, document)
    body = client.get(f"/runs/{run.pk}/").content.decode()
    assert "<dt>CPU model</dt><dd>Test CPU 9000 @ 3 GHz</dd>" in body
    assert "<dt>kernel</dt><dd>6.1.0-test</dd>" in body
    assert "<dt>Docker</dt><dd>Docker 24.0.7, cgroup v2</dd>" in body
    gpus = re.search(r'<dd id="provenance-gpus">(.*?)</dd>', body, re.DOTALL).group(1)
    assert "no GPU" in gpus and "NVML not found (libnvidia-ml.so.1 missing)" in gpus
    assert "<dt>container cpuset</dt><dd>3</dd>" in body
    assert f"<code>{'d' * 64}</code>" in body and "<code>footprint/runtime:1</code>" in body
    assert "<dt>runtime of the null server</dt><dd><code>footprint-null/1</code></dd>" in body
    assert "<dt>seed</dt><dd>1234</dd>" in body
    assert "<dt>memory_bytes</dt><dd>2,147,483,648 bytes (2.00 GiB)</dd>" in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; torch 2.13" in body
    details = re.search(r'<details id="provenance-json">(.*?)</details>', body, re.DOTALL).group(1)
    assert "&quot;tarball_sha256&quot;: &quot;" in details
    assert "latency_samples_us" not in details
    assert "latency_repeats" in details


def test_a_gpu_host_lists_its_gpus_with_the_driver(client: Client, demo: Demo) -> None:
    def document(run_id: int) -> dict:
        doc = energy_result_document(run_id, measured=True)
        doc["provenance"]["runner"]["gpus"] = [
            {
                "index": 0,
                "name": "NVIDIA H100",
                "uuid": "GPU-1",
                "driver_version": "550.54",
                "memory_total_bytes": 2**36,
            }
        ]
        return doc

    run = _measured_run(demo, document)
    gpus = re.search(r'<dd id="provenance-gpus">(.*?)</dd>', client.get(f"/runs/{run.pk}/").content.decode(), re.DOTALL)
    assert "0: NVIDIA H100, driver 550.54, 64.0 GiB" in gpus.group(1)
    assert "GPU-1" not in gpus.group(1)  # a GPU's serial UUID says nothing about the result
    assert "no GPU" not in gpus.group(1)


def test_an_old_result_without_the_new_keys_still_renders(client: Client, demo: Demo) -> None:
    run = _measured_run(demo, result_document)  # no energy, runtimes, gpus, samples, limits
    response = client.get(f"/runs/{run.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="energy-none"' in body and "This result has no energy figures." in body
    assert "not recorded (the result predates energy recording)" in body
    assert "no GPU" in body
    assert 'runtimes</dt><dd>— <span class="muted">(not recorded in this result)</span>' in body
    assert 'id="latency-downloads"' not in body


def test_the_demo_results_with_a_minimal_provenance_render_without_the_runners_host(client: Client, demo: Demo) -> None:
    # conftest's results carry only {"runner_host": ...} as provenance: nothing a reader may see.
    response = client.get(f"/runs/{demo.fast_run.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "runner-1.test" not in body  # which machine measured it is for operators
    assert 'id="provenance-heading"' not in body


def test_malformed_provenance_renders_without_error(client: Client, demo: Demo) -> None:
    Result.objects.filter(run=demo.fast_run).update(
        provenance={"runner": [1, 2], "energy": "rapl", "runtimes": {"submission": None}, "placement": 7}
    )
    response = client.get(f"/runs/{demo.fast_run.pk}/")
    assert response.status_code == 200
    assert "runtime of the submission</dt><dd><code>—</code>" in response.content.decode()


def test_a_queued_run_has_no_energy_or_provenance_block(client: Client, demo: Demo) -> None:
    body = client.get(f"/runs/{demo.queued_run.pk}/").content.decode()
    assert 'id="energy-heading"' not in body and 'id="provenance-heading"' not in body


def test_a_failed_run_with_a_result_shows_its_provenance(client: Client, demo: Demo) -> None:
    failed = make_run(submission=demo.broken, hardware_class=demo.hardware_class, state=Run.FAILED, figures={})
    Result.objects.filter(run=failed).update(provenance={"runner_host": "runner-1.test", "runner": {"cpu_model": "X"}})
    response = client.get(f"/runs/{failed.pk}/")
    assert response.status_code == 200
    assert 'id="provenance-heading"' in response.content.decode()
