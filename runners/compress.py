"""The compress phase: run the submission's `compress`, metered, and check what it left.

Its wall time, CPU time, peak memory and energy are the search cost that the platform's
budget tracks price. What it wrote in /footprint/out is read without following links,
within a size and a file-count cap, and method.json is parsed as hostile input.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path

from runners.containers import container_failure, container_spec
from runners.files import OUTPUT_MAX_ENTRIES
from runners.meters import energy as energy_meters
from runners.result import JobFailure, ResultDocument
from runners.sandbox.docker import DockerSandbox, Mount
from runners.schema import SchemaError, validate_method
from runners.spec import JobSpec
from runners.stage import Staged

METHOD_JSON_MAX_BYTES = 1 << 20


def run_compress(
    spec: JobSpec,
    sandbox: DockerSandbox,
    staged: Staged,
    doc: ResultDocument,
    energy: energy_meters.JobEnergy,
    *,
    stop: Callable[[], str | None] | None = None,
) -> None:
    container = container_spec(
        spec,
        image=spec.submission.image_id,
        command=["compress"],
        mounts=[Mount(str(staged.in_dir), "/footprint/in", True), Mount(str(staged.out_dir), "/footprint/out", False)],
        phase="compress",
        wall_s=spec.limits.compress_wall_s,
        max_file_bytes=max(spec.limits.output_max_bytes, spec.limits.tmpfs_bytes),
        stop=stop,
    )
    # The container's cgroup is read once it has exited: its CPU time is 0 before, the
    # outcome's after.
    totals: dict[str, float | None] = {"cpu_s": 0.0}
    with energy.window(lambda: totals["cpu_s"]) as span:
        outcome = sandbox.run(container)
        totals["cpu_s"] = outcome.cpu_s
    doc.phase("compress", outcome)
    energy.record("compress", "submission", span)
    failure = container_failure("compress", "compress", outcome, spec)
    if failure:
        raise failure
    doc.method = read_outputs(staged.out_dir, spec)
    doc.figure("submission", "compress_wall", outcome.wall_s, "s")
    if outcome.cpu_s is not None:
        doc.figure("submission", "compress_cpu", outcome.cpu_s, "s")
    if outcome.peak_memory_bytes is not None:
        doc.figure("submission", "compress_peak_memory", outcome.peak_memory_bytes, "bytes")


def _walk_outputs(out_dir: Path, *, max_entries: int) -> int:
    """Total bytes of the plain files below out_dir; JobFailure for a link, a special file or
    more than max_entries entries. Iterative, so that no folder depth can exhaust the stack."""
    total = 0
    entries = 0
    pending = [out_dir]
    while pending:
        folder = pending.pop()
        try:
            listing = os.scandir(folder)
        except OSError as exc:
            raise JobFailure("compress", "output_unreadable", f"a folder of /footprint/out cannot be read: {exc}")
        with listing:
            for entry in listing:
                entries += 1
                if entries > max_entries:
                    raise JobFailure(
                        "compress",
                        "output_too_many_files",
                        f"/footprint/out holds more than {max_entries} files and folders.",
                    )
                st = entry.stat(follow_symlinks=False)
                relative = Path(entry.path).relative_to(out_dir)
                if stat.S_ISLNK(st.st_mode):
                    raise JobFailure(
                        "compress",
                        "output_symlink",
                        f"/footprint/out/{str(relative)[:300]} is a symbolic link; outputs must be plain files.",
                    )
                if stat.S_ISDIR(st.st_mode):
                    pending.append(Path(entry.path))
                elif stat.S_ISREG(st.st_mode):
                    total += st.st_size
                else:
                    raise JobFailure(
                        "compress",
                        "output_special_file",
                        f"/footprint/out/{str(relative)[:300]} is not a plain file or folder.",
                    )
    return total


def read_outputs(out_dir: Path, spec: JobSpec) -> dict:
    """Check what compress left, without following links and within the caps; method.json."""
    cap = spec.limits.output_max_bytes
    total = _walk_outputs(out_dir, max_entries=OUTPUT_MAX_ENTRIES)
    if total > cap:
        raise JobFailure(
            "compress", "output_too_large", f"/footprint/out holds {total} bytes, over the limit of {cap} bytes."
        )
    method = read_method_json(out_dir / "method.json")
    if not spec.submission.own_runtime:
        model = out_dir / "model.pt"
        if not model.exists():
            raise JobFailure(
                "compress",
                "model_missing",
                "compress exited 0 but wrote no /footprint/out/model.pt; "
                "the standard division serves that TorchScript file.",
            )
        if not stat.S_ISREG(model.lstat().st_mode):
            raise JobFailure("compress", "model_missing", "/footprint/out/model.pt is not a plain file.")
    return method


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_numbers(value: object, path: str = "") -> str | None:
    """Where a value holds a non-finite float (json reads Infinity and NaN unless told not to)."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where or "(top level)"
        if isinstance(item, dict):
            stack.extend((v, f"{where}/{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{where}/{i}") for i, v in enumerate(item))
    return None


def read_method_json(path: Path) -> dict:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise JobFailure(
            "compress",
            "method_json_missing",
            "compress wrote no /footprint/out/method.json (see the submission contract).",
        )
    except OSError as exc:
        raise JobFailure(
            "compress", "method_json_invalid", f"/footprint/out/method.json cannot be read: {exc.strerror}"
        )
    with os.fdopen(fd, "rb") as f:
        raw = f.read(METHOD_JSON_MAX_BYTES + 1)
    if len(raw) > METHOD_JSON_MAX_BYTES:
        raise JobFailure("compress", "method_json_invalid", "/footprint/out/method.json is larger than 1 MiB.")
    try:
        # NaN and Infinity are not JSON; Python reads them unless refused, and no database
        # stores them. Deep nesting is refused too (RecursionError).
        method = json.loads(raw, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise JobFailure(
            "compress", "method_json_invalid", f"/footprint/out/method.json is not valid JSON: {str(exc)[:300]}"
        )
    if not isinstance(method, dict) or not isinstance(method.get("name"), str) or not method["name"].strip():
        raise JobFailure(
            "compress", "method_json_invalid", '/footprint/out/method.json must be an object with a non-empty "name".'
        )
    where = _finite_numbers(method)
    if where is not None:
        raise JobFailure(
            "compress", "method_json_invalid", f"/footprint/out/method.json holds a non-finite number at {where}."
        )
    try:
        validate_method(method)
    except SchemaError as exc:
        # Declared search cost and the trial log feed the budget tracks: a block that
        # cannot be read must fail here, with its field, not be published half-understood.
        raise JobFailure(
            "compress",
            "method_json_invalid",
            f"/footprint/out/method.json does not follow the contract: {str(exc).removeprefix('footprint.method/1 ')}",
        )
    return method
