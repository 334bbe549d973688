"""From what was measured to the result document: figures, the speed-up and its interval,
flags, audits and the raw data in the provenance. Arithmetic is runners.stats'; verdicts
are runners.audits'; this module only arranges them.
"""

from __future__ import annotations

import statistics

import numpy as np

from runners import audits, stats
from runners.footprint_figures import footprint_ratios
from runners.meters import energy as energy_meters
from runners.offline import Offline
from runners.result import ResultDocument
from runners.servers import REFERENCE, SUBJECTS, SUBMISSION
from runners.single_stream import SingleStream
from runners.spec import MeasurementSettings
from runners.stage import Staged


def latency_figures(doc: ResultDocument, measured: SingleStream, settings: MeasurementSettings) -> None:
    """Per server: percentiles over every timed query, the p50's variation over the rounds,
    the early-stopping p90 bound, queries, peak memory; the raw samples in the provenance."""
    rounds_provenance: dict[str, list[dict]] = {}
    for subject in SUBJECTS:
        timing = measured.timings[subject]
        samples_us = timing.samples_ns().astype(np.float64) / 1000.0
        if not len(samples_us):
            continue
        ordered = np.sort(samples_us)
        for name, percent in (("p50", 50), ("p90", 90), ("p99", 99)):
            doc.figure(subject, f"latency_{name}", stats.latency_percentile_us(ordered, percent), "us")
        doc.figure(subject, "latency_mean", float(samples_us.mean()), "us")
        early = stats.early_stopping_percentile_us(ordered, 0.90)
        if early is not None:
            doc.figure(subject, "latency_p90_early_stopping", early, "us")
        doc.figure(subject, "queries", len(samples_us), "count")
        round_p50s = []
        rounds_provenance[subject] = []
        for index in range(measured.rounds):
            per_round = np.sort(timing.round_samples_ns(index).astype(np.float64) / 1000.0)
            p50 = stats.latency_percentile_us(per_round, 50)
            round_p50s.append(p50)
            rounds_provenance[subject].append(
                {
                    "p50_us": p50,
                    "p90_us": stats.latency_percentile_us(per_round, 90),
                    "p99_us": stats.latency_percentile_us(per_round, 99),
                    "queries": len(per_round),
                    "warmup_queries": timing.warmup_queries[index] if index < len(timing.warmup_queries) else None,
                }
            )
        cv = stats.coefficient_of_variation(round_p50s)
        if cv is not None:
            doc.figure(subject, "latency_p50_cv", cv, "fraction")
        if timing.peaks:
            doc.figure(subject, "serve_peak_memory", max(timing.peaks), "bytes")
        # Every timed query in the order it ran; latency_blocks says which block each belongs to.
        doc.provenance.setdefault("latency_samples_us", {})[subject] = [round(float(v), 3) for v in samples_us]
    doc.provenance["latency_rounds"] = rounds_provenance
    doc.provenance["interleaving"] = {
        "rounds": measured.rounds,
        "block_queries": measured.block_queries,
        "blocks_per_subject": len(measured.timings[SUBMISSION].blocks_ns),
        "bridge_queries": 2,
        "notes": measured.notes,
    }


def speedup_figures(
    doc: ResultDocument, measured: SingleStream, settings: MeasurementSettings, rng: np.random.Generator
) -> None:
    """The median over block pairs of reference p50 / submission p50 (stats.paired_ratio), with
    a bootstrap interval by block pair; the ratio of the pooled p50s beside it in provenance."""
    reference = measured.timings[REFERENCE]
    submission = measured.timings[SUBMISSION]
    pairs = len(reference.blocks_ns)
    if not pairs or pairs != len(submission.blocks_ns):
        return
    ref_blocks, sub_blocks = np.stack(reference.blocks_ns), np.stack(submission.blocks_ns)
    doc.figure(SUBMISSION, "speedup", stats.paired_ratio(ref_blocks, sub_blocks), "ratio")
    doc.provenance["speedup"] = {
        "method": "median over block pairs of p50(reference block) / p50(submission block)",
        "block_pairs": pairs,
        # The ratio of the two published p50s: off the speed-up when the host changed pace.
        "pooled_p50_ratio": stats.median_ratio(reference.samples_ns(), submission.samples_ns()),
    }
    if pairs >= 2:
        low, high = stats.bootstrap_ratio_interval(
            ref_blocks,
            sub_blocks,
            resamples=settings.bootstrap_resamples,
            confidence=settings.confidence,
            rng=rng,
        )
        doc.figure(SUBMISSION, "speedup_ci_low", low, "ratio")
        doc.figure(SUBMISSION, "speedup_ci_high", high, "ratio")
        doc.provenance["speedup_interval"] = {
            "method": (
                "percentile bootstrap over block pairs, statistic the median of the drawn pairs' "
                "p50(reference block) / p50(submission block), p50 the observed sample at index floor(n/2)"
            ),
            "confidence": settings.confidence,
            "resamples": settings.bootstrap_resamples,
            "block_pairs": pairs,
        }


def audit_results(doc: ResultDocument, measured: SingleStream, staged: Staged, offline: Offline | None) -> None:
    """Every reply checked against the accuracy pass; the caching probe; flags; audits."""
    for subject in (REFERENCE, SUBMISSION):
        timing = measured.timings[subject]
        expected = measured.accuracy[subject].predictions
        checked = sum(len(p) for p in timing.block_predictions)
        mismatches = sum(
            audits.count_mismatches(p, i, expected)
            for p, i in zip(timing.block_predictions, timing.block_inputs, strict=True)
        )
        rate = audits.mismatch_rate(mismatches, checked)
        if rate is not None:
            doc.figure(subject, "prediction_mismatch_rate", rate, "fraction")
        probe = measured.probes.get(subject)
        if probe is not None:
            doc.figure(subject, "repeat_latency_ratio", probe.ratio, "ratio")
            doc.provenance.setdefault("caching_probe", {})[subject] = {
                "repeated_p50_us": round(probe.repeated_p50_us, 3),
                "fresh_p50_us": round(probe.fresh_p50_us, 3),
                "queries_each": len(probe.fresh_ns),
            }
        if subject != SUBMISSION:
            continue
        doc.audits.append(
            audits.predictions_audit(
                audits.TIMED_PREDICTIONS, what="timed replies", mismatches=mismatches, checked=checked
            )
        )
        if probe is not None:
            probe_mismatches = audits.count_mismatches(
                probe.repeated_predictions, np.full(len(probe.repeated_predictions), probe.repeated_index), expected
            ) + audits.count_mismatches(probe.fresh_predictions, probe.fresh_indices, expected)
            probe_checked = len(probe.repeated_predictions) + len(probe.fresh_predictions)
            doc.audits.append(
                audits.predictions_audit(
                    audits.PROBE_PREDICTIONS,
                    what="caching-probe replies",
                    mismatches=probe_mismatches,
                    checked=probe_checked,
                )
            )
            doc.audits.append(
                audits.caching_audit(
                    probe.ratio, repeated_p50_us=probe.repeated_p50_us, fresh_p50_us=probe.fresh_p50_us
                )
            )
        else:
            doc.audits.append(audits.caching_audit(None, repeated_p50_us=None, fresh_p50_us=None))
        if offline is not None:
            doc.audits.append(
                audits.predictions_audit(
                    audits.OFFLINE_PREDICTIONS,
                    what="offline-throughput predictions",
                    mismatches=offline.mismatches,
                    checked=offline.checked,
                )
            )
    doc.flags.extend(audits.flags_of(doc.audits))
    doc.provenance["flag_thresholds"] = {
        "prediction_mismatch_rate": audits.PREDICTION_MISMATCH_TOLERANCE,
        "repeat_latency_ratio": audits.CACHE_SUSPECT_RATIO,
    }


def stability_flags(doc: ResultDocument, settings: MeasurementSettings) -> None:
    doc.provenance.setdefault("flag_thresholds", {})["unstable_cv"] = settings.unstable_cv_threshold
    cvs = [doc.figure_value(subject, "latency_p50_cv") for subject in (REFERENCE, SUBMISSION)]
    if any(cv is not None and cv > settings.unstable_cv_threshold for cv in cvs):
        doc.flags.append("unstable")


def throughput_figures(doc: ResultDocument, offline: Offline | None) -> None:
    if offline is None or offline.batch_size is None:
        return
    for subject in (SUBMISSION, REFERENCE):
        if subject in offline.samples_per_s:
            doc.figure(subject, "throughput", offline.samples_per_s[subject], "samples/s")
    doc.figure(SUBMISSION, "throughput_batch_size", offline.batch_size, "count")


def artifact_figures(doc: ResultDocument, staged: Staged) -> None:
    footprint_ratios(doc)
    for subject, path in ((REFERENCE, staged.reference_dir / "model.pt"), (SUBMISSION, staged.out_dir / "model.pt")):
        try:
            st = path.lstat()
        except OSError:
            continue
        if path.is_file() and not path.is_symlink():
            doc.figure(subject, "artifact_size", st.st_size, "bytes")


def energy_figures(doc: ResultDocument, energy: energy_meters.JobEnergy) -> None:
    """The energy figures of every window measured (docs/measurement.md, "Energy").

    Serve energy is the timed single-stream windows' total over the rounds; per inference
    is the median over the rounds of each round's net energy / its queries.
    """
    label = energy.label
    if label is None:
        return
    if energy.idle_power_w is not None:
        doc.figure(REFERENCE, "idle_power", energy.idle_power_w, "W", label)
    groups: dict[tuple[str, str], list[dict]] = {}
    for record in energy.records:
        groups.setdefault((record["phase"], record["subject"]), []).append(record)
    for (phase, subject), records in groups.items():
        spans = [r["span"] for r in records]
        gross = [s.gross_j for s in spans]
        net = [s.net_j for s in spans]
        if phase in ("compress", "serve"):
            if gross and all(g is not None for g in gross):
                doc.figure(subject, f"{phase}_energy_gross", sum(gross), "J", label)  # type: ignore[arg-type]
            if net and all(n is not None for n in net):
                doc.figure(subject, f"{phase}_energy_net", sum(net), "J", label)  # type: ignore[arg-type]
        if phase == "serve":
            per_query = [
                r["span"].net_j / r["queries"] for r in records if r["span"].net_j is not None and r["queries"]
            ]
            if per_query and len(per_query) == len(records):
                doc.figure(subject, "energy_per_inference", statistics.median(per_query) * 1000.0, "mJ", label)
        if phase == "offline":
            record = records[-1]
            net_j = record["span"].net_j
            if net_j is not None and net_j > 0 and record["samples"]:
                doc.figure(
                    subject,
                    "samples_per_kwh",
                    record["samples"] / (net_j / energy_meters.J_PER_KWH),
                    "samples/kWh",
                    label,
                )
