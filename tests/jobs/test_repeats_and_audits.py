"""Repeated serve phases, offline throughput and the audits (prediction check, caching probe)."""

from __future__ import annotations

import statistics

import pytest

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


def figures(document: dict) -> dict[tuple[str, str], dict]:
    return {(f["subject"], f["name"]): f for f in document["figures"]}


def image(build_test_image, **scripts: str) -> str:
    files = {f"bin/{name}": text for name, text in scripts.items()}
    return build_test_image("COPY bin/ /usr/local/bin/\n", files)


def test_repeats_publish_the_median_and_the_cv_and_flag_instability(build_test_image, job_spec, run):
    spec = job_spec(image(build_test_image, compress=COPY_REFERENCE % "None"))
    # Any CV above zero is over this threshold: the flag must show.
    spec["measurement"].update(repeats=3, unstable_cv_threshold=0.0)
    document, _ = run(spec)

    assert document["status"] == "succeeded", document["failure"]
    got = figures(document)
    provenance = document["provenance"]
    assert provenance["repeats"] == 3
    for subject in ("null", "reference", "submission"):
        repeats = provenance["latency_repeats"][subject]
        assert len(repeats) == 3
        p50s = [r["p50_us"] for r in repeats]
        assert got[(subject, "latency_p50")]["value"] == statistics.median(p50s)
        assert got[(subject, "latency_p50_cv")]["value"] == pytest.approx(
            statistics.stdev(p50s) / statistics.mean(p50s)
        )
        assert got[(subject, "latency_p50_cv")]["unit"] == "fraction"
        assert got[(subject, "queries")]["value"] == sum(r["queries"] for r in repeats)
        assert len(provenance["latency_samples_us"][subject]) == sum(r["queries"] for r in repeats)
        # 64 queries per repeat: the early-stopping bound exists and is the highest latency.
        assert all(r["p90_early_stopping_us"] >= r["p90_us"] for r in repeats)
        assert got[(subject, "latency_p90_early_stopping")]["value"] == statistics.median(
            r["p90_early_stopping_us"] for r in repeats
        )
        assert len(provenance["serve_repeats"][subject]) == 2  # the first is phases["serve_<subject>"]
    speedup = got[("reference", "latency_p50")]["value"] / got[("submission", "latency_p50")]["value"]
    assert got[("submission", "speedup")]["value"] == pytest.approx(speedup)
    # The same model on both sides: the timed replies equal the accuracy run's.
    assert got[("submission", "prediction_mismatch_rate")]["value"] == 0.0
    assert got[("reference", "prediction_mismatch_rate")]["value"] == 0.0
    assert 0.8 < got[("submission", "repeat_latency_ratio")]["value"] < 1.25
    assert document["flags"] == ["unstable"]
    assert ("submission", "throughput") not in got  # no batch_sizes declared


def test_a_single_repeat_publishes_no_cv_and_no_flag(build_test_image, job_spec, run):
    document, _ = run(job_spec(image(build_test_image, compress=COPY_REFERENCE % "None")))
    assert document["status"] == "succeeded", document["failure"]
    assert not any(name == "latency_p50_cv" for _, name in figures(document))
    assert document["flags"] == []
    assert document["provenance"]["repeats"] == 1


def test_a_server_that_caches_replies_is_flagged(build_test_image, job_spec, run):
    tag = image(build_test_image, compress=WRITE_METHOD % "None", serve=CACHING_SERVER)
    document, _ = run(job_spec(tag, division="own"))

    assert document["status"] == "succeeded", document["failure"]
    got = figures(document)
    assert got[("submission", "repeat_latency_ratio")]["value"] < 0.5
    probe = document["provenance"]["caching_probe"]["submission"]
    assert probe["fresh_p50_us"] > 2500  # every fresh probe input was new to its cache
    assert "cache_suspected" in document["flags"]
    assert "predictions_differ" not in document["flags"]


def test_a_server_that_answers_timed_queries_differently_is_flagged(build_test_image, job_spec, run):
    tag = image(build_test_image, compress=WRITE_METHOD % "None", serve=SWITCHING_SERVER)
    document, _ = run(job_spec(tag, division="own"))

    assert document["status"] == "succeeded", document["failure"]
    got = figures(document)
    assert got[("submission", "prediction_mismatch_rate")]["value"] == 1.0
    assert got[("reference", "prediction_mismatch_rate")]["value"] == 0.0
    assert document["flags"] == ["predictions_differ"]


def test_throughput_falls_back_to_the_largest_batch_that_works(build_test_image, job_spec, run):
    tag = image(build_test_image, compress=WRITE_METHOD % "[1, 128, 96]", serve=SMALL_MEMORY_SERVER)
    document, _ = run(job_spec(tag, division="own"))

    assert document["status"] == "succeeded", document["failure"]
    got = figures(document)
    assert got[("submission", "throughput_batch_size")]["value"] == 96
    assert got[("submission", "throughput")]["unit"] == "samples/s"
    assert got[("submission", "throughput")]["value"] > 0
    assert got[("reference", "throughput")]["value"] > 0  # at the same batch size
    notes = document["provenance"]["throughput"]
    assert notes["batch_sizes_declared"] == [128, 96, 1]
    assert [(a["subject"], a["batch_size"]) for a in notes["attempts"]] == [
        ("submission", 128),
        ("submission", 96),
        ("reference", 96),
    ]
    assert "cannot allocate a batch of 128" in notes["attempts"][0]["failure"]
    assert notes["attempts"][1]["batches"] >= 64 and notes["attempts"][1]["duration_s"] >= 1.0


def test_malformed_batch_sizes_are_left_out_and_the_provenance_says_why(build_test_image, job_spec, run):
    document, _ = run(job_spec(image(build_test_image, compress=COPY_REFERENCE % '["big"]')))
    assert document["status"] == "succeeded", document["failure"]
    assert ("submission", "throughput") not in figures(document)
    assert "batch_sizes must be a list" in document["provenance"]["throughput"]["skipped"]
