"""The result document `footprint.result/1` as the phases fill it, and the failure they raise.

runners/README.md documents every field; runners/schemas/result-v1.json checks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runners.sandbox.docker import ContainerOutcome
from runners.schema import RESULT_SCHEMA

FAILURE_REASON_MAX_CHARS = 4000
# The failure code of a job stopped because its run was cancelled (not the submission's doing).
CANCELLED = "cancelled"


class JobFailure(Exception):
    """The submission (or its inputs) cannot be measured; `reason` says why in words."""

    def __init__(self, phase: str, code: str, reason: str) -> None:
        super().__init__(reason)
        self.phase, self.code, self.reason = phase, code, reason


def phase_record(outcome: ContainerOutcome) -> dict:
    """A container's outcome as the result document's `phases` hold it."""
    return {
        "exit_code": outcome.exit_code,
        "wall_s": round(outcome.wall_s, 6),
        "cpu_s": outcome.cpu_s,
        "peak_memory_bytes": outcome.peak_memory_bytes,
        "log_tail": outcome.log_tail,
        "timed_out": outcome.timed_out,
        "oom_killed": outcome.oom_killed,
        "pids_limit_hit": outcome.pids_limit_hit,
    }


@dataclass(frozen=True)
class Audit:
    """One check of the server's honesty (runners/README.md, "audits")."""

    name: str
    subject: str
    verdict: str  # "passed" | "failed" | "not_run"
    sentence: str
    figure: str | None = None
    value: float | None = None
    threshold: float | None = None
    unit: str | None = None

    @property
    def failed(self) -> bool:
        return self.verdict == "failed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "subject": self.subject,
            "verdict": self.verdict,
            "figure": self.figure,
            "value": None if self.value is None else float(self.value),
            "threshold": None if self.threshold is None else float(self.threshold),
            "unit": self.unit,
            "sentence": self.sentence[:1000],
        }


@dataclass
class ResultDocument:
    run_id: int
    attempt: int
    phases: dict[str, dict] = field(default_factory=dict)
    figures: list[dict] = field(default_factory=list)
    method: dict | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    # Stability and audit flags (docs/measurement.md, "Flags"), e.g. "unstable".
    flags: list[str] = field(default_factory=list)
    audits: list[Audit] = field(default_factory=list)

    def figure(self, subject: str, name: str, value: float, unit: str, label: str = "measured") -> None:
        self.figures.append({"subject": subject, "name": name, "value": float(value), "unit": unit, "label": label})

    def figure_value(self, subject: str, name: str) -> float | None:
        for figure in self.figures:
            if figure["subject"] == subject and figure["name"] == name:
                return figure["value"]
        return None

    def phase(self, name: str, outcome: ContainerOutcome) -> None:
        self.phases[name] = phase_record(outcome)

    def as_dict(self, failure: JobFailure | None) -> dict:
        return {
            "schema": RESULT_SCHEMA,
            "run_id": self.run_id,
            "attempt": self.attempt,
            "status": "failed" if failure else "succeeded",
            "failure": (
                {"phase": failure.phase, "code": failure.code, "reason": failure.reason[:FAILURE_REASON_MAX_CHARS]}
                if failure
                else None
            ),
            "phases": self.phases,
            "figures": [] if failure else self.figures,
            "flags": [] if failure else sorted(set(self.flags)),
            "audits": [] if failure else [audit.as_dict() for audit in self.audits],
            "method": self.method,
            "provenance": self.provenance,
        }
