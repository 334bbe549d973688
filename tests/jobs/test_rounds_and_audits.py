"""Rounds of fresh servers measured interleaved, the speed-up's interval, offline throughput,
and the audits that every reply is checked by."""

from __future__ import annotations

import numpy as np
import pytest

from runners import stats

pytestmark = pytest.mark.docker

COPY_REFERENCE = """#!/usr/bin/env python3
import shutil, footprint_sdk
shutil.copyfile("/footprint/in/reference/model.pt", "/footprint/out/model.pt")
footprint_sdk.write_method("copy of the reference", batch_sizes=%s)
"""

WRITE_METHOD = """#!/usr/bin/env python3
import footprint_sdk
footprint_sdk.write_method("own runtime", batch_sizes=%s)
"""

# Remembers every input it answered: a new input costs 3 ms, a known one nothing.
CACHING_SERVER = """#!/usr/bin/env python3
import time, numpy as np, footprint_sdk
seen = {}
def predict(batch):
    key = batch.tobytes()
    if key not in seen:
        time.sleep(0.003)
        seen[key] = np.full(len(batch), 3, dtype=np.int64)
    return seen[key]
footprint_sdk.serve(predict)
"""

# Answers 3 in the accuracy run (batches) and 4 to single queries: a cheaper timed model.
SWITCHING_SERVER = """#!/usr/bin/env python3
import numpy as np, footprint_sdk
footprint_sdk.serve(lambda batch: np.full(len(batch), 3 if len(batch) > 1 else 4, dtype=np.int64))
"""

# Fails (as an out-of-memory error would) on batches larger than 100 (the accuracy run sends 64).
SMALL_MEMORY_SERVER = """#!/usr/bin/env python3
import numpy as np, footprint_sdk
def predict(batch):
    if len(batch) > 100:
        raise MemoryError(f"cannot allocate a batch of {len(batch)}")
    return np.full(len(batch), 3, dtype=np.int64)
footprint_sdk.serve(predict)
"""

# Honest at batch 1 and in the accuracy pass's batches of 64; zeros for the offline batches.
OFFLINE_ZEROS_SERVER = """#!/usr/bin/env python3
import numpy as np, footprint_sdk
def predict(batch):
    if len(batch) == 50:
        return np.zeros(len(batch), dtype=np.int64)
    return np.full(len(batch), 3, dtype=np.int64)
footprint_sdk.serve(predict)
"""


def figures(document: dict) -> dict[tuple[str, str], dict]:
    return {(f["subject"], f["name"]): f for f in document["figures"]}


def audits(document: dict) -> dict[str, dict]:
    return {a["name"]: a for a in document["audits"]}


def image(build_test_image, **scripts: str) -> str:
    files = {f"bin/{name}": text for name, text in scripts.items()}
    return build_test_image("COPY bin/ /usr/local/bin/\n", files)


def test_rounds_publish_pooled_percentiles_their_variation_and_the_speedups_interval(build_test_image, job_spec, run):
    spec = job_spec(image(build_test_image, compress=COPY_REFERENCE % "None"))
    # Any CV above zero is over this threshold: the flag must show.
    spec["measurement"].update(repeats=3, unstable_cv_threshold=0.0, block_queries=16)
    document, _ = run(spec)

    assert document["status"] == "succeeded", document["failure"]
    got = figures(document)
    provenance = document["provenance"]
    assert provenance["repeats"] == 3
    for subject in ("null", "reference", "submission"):
        rounds = provenance["latency_rounds"][subject]
        assert len(rounds) == 3
        samples = np.asarray(provenance["latency_samples_us"][subject])
        assert len(samples) == got[(subject, "queries")]["value"] == sum(r["queries"] for r in rounds) >= 64
        assert got[(subject, "latency_p50")]["value"] == pytest.approx(
            stats.latency_percentile_us(np.sort(samples), 50), abs=0.001
        )
        p50s = [r["p50_us"] for r in rounds]
        assert got[(subject, "latency_p50_cv")]["value"] == pytest.approx(np.std(p50s, ddof=1) / np.mean(p50s))
        assert len(provenance["serve_repeats"][subject]) == 2  # the first round is phases["serve_<subject>"]
    # Every server was timed on the same blocks.
    interleaving = provenance["interleaving"]
    assert interleaving["block_queries"] == 16 and interleaving["rounds"] == 3
    # The speed-up is the median over block pairs of their p50 ratios; the pooled ratio beside it.
    speedup = got[("submission", "speedup")]["value"]
    per_block = {
        subject: np.asarray(provenance["latency_samples_us"][subject]).reshape(-1, interleaving["block_queries"])
        for subject in ("reference", "submission")
    }
    middle = interleaving["block_queries"] // 2  # the p50 rule: the observed sample at floor(n/2)
    pair_p50s = {subject: np.sort(blocks, axis=1)[:, middle] for subject, blocks in per_block.items()}
    assert speedup == pytest.approx(float(np.median(pair_p50s["reference"] / pair_p50s["submission"])), rel=1e-3)
    assert provenance["speedup"]["pooled_p50_ratio"] == pytest.approx(
        got[("reference", "latency_p50")]["value"] / got[("submission", "latency_p50")]["value"], rel=1e-4
    )
    low, high = got[("submission", "speedup_ci_low")]["value"], got[("submission", "speedup_ci_high")]["value"]
    assert low <= speedup <= high
    assert low < 1.0 < high or abs(speedup - 1.0) < 0.1  # the same model on both sides
    assert provenance["speedup_interval"]["block_pairs"] == interleaving["blocks_per_subject"]
    assert got[("submission", "prediction_mismatch_rate")]["value"] == 0.0
    assert got[("reference", "prediction_mismatch_rate")]["value"] == 0.0
    assert {name: a["verdict"] for name, a in audits(document).items()} == {
        "timed_predictions": "passed",
        "probe_predictions": "passed",
        "caching": "passed",
    }
    assert document["flags"] == ["unstable"]
    assert len(provenance["schedule_secret"]) == 32
    assert ("submission", "throughput") not in got  # no batch_sizes declared


def test_a_single_round_publishes_no_cv_and_no_flag(build_test_image, job_spec, run):
    document, _ = run(job_spec(image(build_test_image, compress=COPY_REFERENCE % "None")))
    assert document["status"] == "succeeded", document["failure"]
    got = figures(document)
    assert not any(name == "latency_p50_cv" for _, name in got)
    assert document["flags"] == []
    assert document["provenance"]["repeats"] == 1
    assert ("submission", "speedup_ci_low") in got  # two blocks of 32: two pairs


def test_a_reply_cache_gains_nothing_and_fails_the_caching_audit(build_test_image, job_spec, run):
    tag = image(build_test_image, compress=WRITE_METHOD % "None", serve=CACHING_SERVER)
    document, _ = run(job_spec(tag, division="own"))

    assert document["status"] == "succeeded", document["failure"]
    got = figures(document)
    # No timed input had been seen by its process: each one paid the 3 ms.
    assert got[("submission", "latency_p50")]["value"] > 2500
    assert got[("submission", "repeat_latency_ratio")]["value"] < 0.5
    verdicts = audits(document)
    assert verdicts["caching"]["verdict"] == "failed"
    assert "keeps a reply cache" in verdicts["caching"]["sentence"]
    assert verdicts["timed_predictions"]["verdict"] == "passed"
    assert "cache_suspected" in document["flags"] and "predictions_differ" not in document["flags"]


def test_a_cheaper_model_for_timed_queries_fails_the_timed_predictions_audit(build_test_image, job_spec, run):
    tag = image(build_test_image, compress=WRITE_METHOD % "None", serve=SWITCHING_SERVER)
    document, _ = run(job_spec(tag, division="own"))

    assert document["status"] == "succeeded", document["failure"]
    got = figures(document)
    assert got[("submission", "prediction_mismatch_rate")]["value"] == 1.0
    assert got[("reference", "prediction_mismatch_rate")]["value"] == 0.0
    verdicts = audits(document)
    assert verdicts["timed_predictions"]["verdict"] == "failed"
    assert verdicts["timed_predictions"]["sentence"].startswith("64 of 64 timed replies (100 %) differ")
    assert verdicts["probe_predictions"]["verdict"] == "failed"  # the probe's replies are single queries too
    assert document["flags"] == ["predictions_differ"]


def test_throughput_falls_back_to_the_largest_batch_that_works(build_test_image, job_spec, run):
    tag = image(build_test_image, compress=WRITE_METHOD % "[1, 128, 96, 4096]", serve=SMALL_MEMORY_SERVER)
    document, _ = run(job_spec(tag, division="own"))

    assert document["status"] == "succeeded", document["failure"]
    got = figures(document)
    assert got[("submission", "throughput_batch_size")]["value"] == 96
    assert got[("submission", "throughput")]["unit"] == "samples/s"
    assert got[("submission", "throughput")]["value"] > 0
    assert got[("reference", "throughput")]["value"] > 0  # at the same batch size, interleaved
    notes = document["provenance"]["throughput"]
    assert notes["batch_sizes_declared"] == [4096, 128, 96, 1]
    assert [a["batch_size"] for a in notes["attempts"]] == [4096, 128, 96]
    assert "larger than the test split (200 inputs)" in notes["attempts"][0]["failure"]
    assert "cannot allocate a batch of 128" in notes["attempts"][1]["failure"]
    # 200 test inputs make two distinct batches of 96 per process.
    assert notes["attempts"][2]["samples"] == {"submission": 192, "reference": 192}
    assert audits(document)["offline_predictions"]["verdict"] == "passed"


def test_offline_replies_that_are_not_the_models_fail_their_audit(build_test_image, job_spec, run):
    tag = image(build_test_image, compress=WRITE_METHOD % "[50]", serve=OFFLINE_ZEROS_SERVER)
    document, _ = run(job_spec(tag, division="own"))

    assert document["status"] == "succeeded", document["failure"]
    verdict = audits(document)["offline_predictions"]
    assert verdict["verdict"] == "failed"
    assert verdict["sentence"].startswith("200 of 200 offline-throughput predictions (100 %) differ")


def test_malformed_batch_sizes_are_left_out_and_the_provenance_says_why(build_test_image, job_spec, run):
    document, _ = run(job_spec(image(build_test_image, compress=COPY_REFERENCE % '["big"]')))
    assert document["status"] == "succeeded", document["failure"]
    assert ("submission", "throughput") not in figures(document)
    assert "batch_sizes must be a list" in document["provenance"]["throughput"]["skipped"]
