"""Whole jobs in the Docker sandbox: a good submission, and every way one can misbehave."""

from __future__ import annotations

import os

import pytest

from runners import placement

pytestmark = pytest.mark.docker

COPY_REFERENCE = """#!/usr/bin/env python3
import shutil, footprint_sdk
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
footprint_sdk.write_method("copy of the reference", description="identity")
print("compressed")
"""

SDK_SERVER = """#!/usr/bin/env python3
import numpy as np, footprint_sdk
footprint_sdk.serve(lambda batch: np.full(len(batch), 3, dtype=np.int64), info="constant three")
"""

DECLARING_SERVER = """#!/usr/bin/env python3
import numpy as np, footprint_sdk
footprint_sdk.serve(
    lambda batch: np.full(len(batch), 3, dtype=np.int64),
    info="constant three",
    footprint=%s,
)
"""

WRITE_METHOD_ONLY = """#!/usr/bin/env python3
import footprint_sdk
footprint_sdk.write_method("own runtime")
"""


def figures(document: dict) -> dict[tuple[str, str], dict]:
    return {(f["subject"], f["name"]): f for f in document["figures"]}


def image(build_test_image, **scripts: str) -> str:
    files = {f"bin/{name}": text for name, text in scripts.items()}
    return build_test_image("COPY bin/ /usr/local/bin/\n", files)


def test_a_standard_submission_is_measured_next_to_the_reference(build_test_image, job_spec, run):
    document, reports = run(job_spec(image(build_test_image, compress=COPY_REFERENCE)))

    assert document["status"] == "succeeded", document["failure"]
    assert [state for state, _ in reports] == ["staging", "compressing", "measuring"]
    got = figures(document)
    # The same model on both sides: same predictions, and a speed-up near one.
    assert got[("submission", "accuracy")]["value"] == got[("reference", "accuracy")]["value"]
    assert 0.5 < got[("submission", "speedup")]["value"] < 2.0
    for subject in ("null", "reference", "submission"):
        p50, p90, p99 = (got[(subject, f"latency_{p}")]["value"] for p in ("p50", "p90", "p99"))
        assert 0 < p50 <= p90 <= p99
        assert got[(subject, "queries")]["value"] >= 64
        assert got[(subject, "serve_peak_memory")]["value"] > 1 << 20
    assert got[("null", "latency_p50")]["value"] < got[("reference", "latency_p50")]["value"]
    assert got[("submission", "compress_wall")]["unit"] == "s"
    assert got[("submission", "compress_cpu")]["value"] > 0
    assert got[("submission", "artifact_size")]["value"] == got[("reference", "artifact_size")]["value"]
    assert all(f["label"] == "measured" for f in document["figures"])
    # The test reference: conv 1->8 3x3 on 8x8 and Linear 512->10 (FLOPs = 2 x multiply-adds).
    for subject in ("reference", "submission"):
        assert got[(subject, "params_total")]["value"] == 8 * 9 + 8 + 512 * 10 + 10
        assert got[(subject, "params_nonzero")]["value"] == got[(subject, "params_total")]["value"]
        assert got[(subject, "flops_dense")]["value"] == 2 * 8 * 9 * 64 + 2 * 512 * 10
        assert got[(subject, "flops_nonzero")]["value"] == got[(subject, "flops_dense")]["value"]
        assert 0 < got[(subject, "artifact_gzip_size")]["value"] < got[(subject, "artifact_size")]["value"]
    assert got[("submission", "compression_ratio")]["value"] == 1.0
    assert got[("submission", "theoretical_speedup")]["value"] == 1.0
    assert ("reference", "compression_ratio") not in got
    assert document["provenance"]["footprint"] == {"reference": "measured", "submission": "measured"}
    assert "compressed" in document["phases"]["compress"]["log_tail"]
    assert document["method"]["name"] == "copy of the reference"
    # The container has CPU 0; the harness sits outside it when the runner may use another CPU.
    expected_cpus, _policy = placement.harness_cpus({0}, os.sched_getaffinity(0))
    assert document["provenance"]["placement"]["harness_cpus"] == sorted(expected_cpus)
    assert len(document["provenance"]["latency_samples_us"]["submission"]) >= 64


def test_an_own_runtime_submission_serves_itself(build_test_image, job_spec, run):
    tag = image(build_test_image, compress=WRITE_METHOD_ONLY, serve=SDK_SERVER)
    document, _ = run(job_spec(tag, division="own"))

    assert document["status"] == "succeeded", document["failure"]
    got = figures(document)
    assert got[("submission", "accuracy")]["value"] < 0.3  # it always answers 3
    assert "artifact_size" not in {name for subject, name in got if subject == "submission"}


def test_an_own_runtime_submission_may_declare_its_footprint(build_test_image, job_spec, run):
    declared = '{"params_total": 1000, "params_nonzero": 250, "flops_dense": 8000, "flops_nonzero": 4000}'
    tag = image(build_test_image, compress=WRITE_METHOD_ONLY, serve=DECLARING_SERVER % declared)
    document, _ = run(job_spec(tag, division="own"))

    assert document["status"] == "succeeded", document["failure"]
    got = figures(document)
    assert got[("submission", "params_nonzero")] == {
        "subject": "submission",
        "name": "params_nonzero",
        "value": 250.0,
        "unit": "count",
        "label": "declared",
    }
    # Against the reference measured in the same job, labelled declared since one side is.
    reference_params = got[("reference", "params_total")]["value"]
    reference_flops = got[("reference", "flops_dense")]["value"]
    assert got[("submission", "compression_ratio")]["value"] == pytest.approx(reference_params / 250)
    assert got[("submission", "compression_ratio")]["label"] == "declared"
    assert got[("submission", "theoretical_speedup")]["value"] == pytest.approx(reference_flops / 4000)
    assert got[("submission", "theoretical_speedup")]["label"] == "declared"
    # The reference is served by Footprint's runtime: measured, whatever the submission says.
    assert got[("reference", "params_total")]["label"] == "measured"
    assert got[("submission", "speedup")]["label"] == "measured"
    assert document["provenance"]["footprint"]["submission"] == "declared"


def test_it_ignores_a_malformed_declared_footprint_and_says_why(build_test_image, job_spec, run):
    malformed = '{"params_total": 10, "params_nonzero": 11}'
    tag = image(build_test_image, compress=WRITE_METHOD_ONLY, serve=DECLARING_SERVER % malformed)
    document, _ = run(job_spec(tag, division="own"))

    assert document["status"] == "succeeded", document["failure"]
    submission_names = {name for subject, name in figures(document) if subject == "submission"}
    assert not submission_names & {"params_total", "params_nonzero", "compression_ratio"}
    assert document["provenance"]["footprint"]["submission"] == (
        "ignored: the server's footprint block is malformed (params_nonzero (11) exceeds params_total (10))"
    )


def failure_of(document: dict) -> dict:
    assert document["status"] == "failed"
    assert document["figures"] == []
    return document["failure"]


def test_it_fails_a_tarball_that_is_not_an_image(job_spec, run, tmp_path, runtime_image):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar archive at all" * 100)
    failure = failure_of(run(job_spec(runtime_image, image_id="sha256:" + "ab" * 32, tarball=junk))[0])
    # Refused while its copy without names is made, before docker load sees a byte of it.
    assert (failure["phase"], failure["code"]) == ("staging", "image_refused")
    assert failure["reason"].startswith("the submission image could not be loaded: the tarball is damaged")


def test_it_fails_an_image_without_the_contract_commands(job_spec, run, base_image):
    failure = failure_of(run(job_spec(base_image))[0])
    assert failure["code"] == "compress_not_runnable"
    assert "`compress` on its PATH" in failure["reason"]


def test_it_fails_a_compress_that_exits_non_zero_with_its_log(build_test_image, job_spec, run):
    tag = image(build_test_image, compress="#!/bin/sh\necho 'loss diverged at step 12' >&2\nexit 4\n")
    document, _ = run(job_spec(tag))
    failure = failure_of(document)
    assert failure["code"] == "compress_nonzero_exit"
    assert "code 4" in failure["reason"]
    assert "loss diverged at step 12" in document["phases"]["compress"]["log_tail"]


def test_it_fails_a_compress_that_writes_no_model(build_test_image, job_spec, run):
    failure = failure_of(run(job_spec(image(build_test_image, compress=WRITE_METHOD_ONLY)))[0])
    assert failure["code"] == "model_missing"
    assert "model.pt" in failure["reason"]


def test_it_fails_a_compress_that_writes_no_method_json(build_test_image, job_spec, run):
    tag = image(build_test_image, compress="#!/bin/sh\ncp /footprint/in/reference/model.pt /footprint/out/\n")
    failure = failure_of(run(job_spec(tag))[0])
    assert failure["code"] == "method_json_missing"


def test_it_fails_a_method_json_whose_declared_search_breaks_the_contract(build_test_image, job_spec, run):
    compress = COPY_REFERENCE.replace(
        'description="identity")',
        'description="identity", search={"device_type": "A100", "device_count": 0, "hours": 2})',
    )
    document, _ = run(job_spec(image(build_test_image, compress=compress)))
    failure = failure_of(document)
    assert (failure["phase"], failure["code"]) == ("compress", "method_json_invalid")
    assert "search/device_count" in failure["reason"]
    assert "serve_submission" not in document["phases"]  # nothing was measured on a broken declaration


def test_it_refuses_a_symbolic_link_in_the_output(build_test_image, job_spec, run):
    compress = COPY_REFERENCE + "import os; os.symlink('/etc/passwd', '/footprint/out/leak')\n"
    failure = failure_of(run(job_spec(image(build_test_image, compress=compress)))[0])
    assert failure["code"] == "output_symlink"


def test_it_fails_a_model_that_is_not_torchscript_when_served(build_test_image, job_spec, run):
    compress = COPY_REFERENCE + "open('/footprint/out/model.pt', 'wb').write(b'not a model')\n"
    document, _ = run(job_spec(image(build_test_image, compress=compress)))
    failure = failure_of(document)
    assert failure["phase"] == "measuring"
    assert "the submission's server" in failure["reason"]
    assert "TorchScript" in document["phases"]["serve_submission"]["log_tail"]


def test_it_fails_a_server_that_never_becomes_ready(build_test_image, job_spec, run):
    tag = image(build_test_image, compress=WRITE_METHOD_ONLY, serve="#!/bin/sh\nexec sleep 600\n")
    failure = failure_of(run(job_spec(tag, division="own", limits={"serve_ready_s": 10}))[0])
    assert failure["code"] == "serve_not_ready"
    assert "10 s" in failure["reason"]


def test_it_fails_a_server_that_answers_garbage(build_test_image, job_spec, run):
    garbage = """#!/usr/bin/env python3
import os, socket
s = socket.socket(socket.AF_UNIX); s.bind(os.environ["FOOTPRINT_SOCKET"]); s.listen(1)
c, _ = s.accept(); c.sendall(b"GET / HTTP/1.1\\r\\nHost: footprint\\r\\n\\r\\n"); c.recv(10)
"""
    tag = image(build_test_image, compress=WRITE_METHOD_ONLY, serve=garbage)
    failure = failure_of(run(job_spec(tag, division="own"))[0])
    assert failure["code"] == "serve_protocol_error"


def test_it_fails_an_own_runtime_image_without_serve(build_test_image, job_spec, run):
    tag = image(build_test_image, compress=WRITE_METHOD_ONLY)
    failure = failure_of(run(job_spec(tag, division="own"))[0])
    assert failure["code"] == "serve_not_runnable"


def test_it_kills_a_compress_that_exceeds_memory(build_test_image, job_spec, run):
    hog = "#!/usr/bin/env python3\nblocks = []\nwhile True:\n    blocks.append(bytearray(64 << 20))\n"
    failure = failure_of(run(job_spec(image(build_test_image, compress=hog), limits={"memory_bytes": 256 << 20}))[0])
    assert failure["code"] == "compress_out_of_memory"
    assert "256 MiB" in failure["reason"]


def test_it_stops_a_compress_that_exceeds_the_process_limit(build_test_image, job_spec, run):
    threads = (
        "#!/usr/bin/env python3\nimport threading, time\n"
        "for _ in range(200):\n    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
    )
    failure = failure_of(run(job_spec(image(build_test_image, compress=threads), limits={"pids": 32}))[0])
    assert failure["code"] == "compress_pids_limit"
    assert "32 processes" in failure["reason"]


def test_it_kills_a_compress_that_exceeds_its_time_and_stays_healthy(build_test_image, job_spec, run):
    slow = image(build_test_image, compress="#!/bin/sh\nsleep 300\n")
    failure = failure_of(run(job_spec(slow, limits={"compress_wall_s": 2}))[0])
    assert failure["code"] == "compress_timeout"
    assert "2 s" in failure["reason"]
    # The same sandbox goes on measuring the next job.
    document, _ = run(job_spec(image(build_test_image, compress=COPY_REFERENCE)))
    assert document["status"] == "succeeded"


def test_it_refuses_a_job_spec_it_cannot_read(job_spec, run, runtime_image):
    spec = job_spec(runtime_image)
    del spec["limits"]["pids"]
    failure = failure_of(run(spec)[0])
    assert failure["code"] == "invalid_job_spec"
