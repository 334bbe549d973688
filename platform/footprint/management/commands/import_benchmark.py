from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from benchmarks.data import BenchmarkDataError
from benchmarks.services import benchmark_import
from budgets.services import tracks_ensure_defaults

# Optional settings: (option, type, help). Unset options keep the current value (or the
# default for a new benchmark).
_OPTIONS: list[tuple[str, type, str]] = [
    ("description", str, "text shown on the benchmark page"),
    ("accuracy_floor_fraction", float, "ranked only with accuracy >= F x the reference's (default 0.98)"),
    ("compress_wall_s", int, "wall-clock limit of compress, seconds"),
    ("serve_wall_s", int, "wall-clock limit of each serve phase, seconds"),
    ("serve_ready_s", int, "time a server has to become ready, seconds"),
    ("memory_bytes", int, "memory (and swap) limit of a container, bytes"),
    ("pids_limit", int, "process limit of a container"),
    ("tmpfs_bytes", int, "size of /tmp in a container, bytes"),
    ("output_max_bytes", int, "largest /footprint/out, bytes"),
    ("warmup_queries", int, "latency warm-up queries"),
    ("warmup_s", float, "latency warm-up, seconds"),
    ("min_queries", int, "least timed queries"),
    ("min_duration_s", float, "least timed duration, seconds"),
    ("accuracy_batch_size", int, "batch size of the accuracy pass"),
    ("seed", int, "seed given to submissions"),
    ("serve_repeats", int, "fresh serve containers per server; latencies are their medians (default 3)"),
    ("unstable_cv_threshold", float, "flag a result unstable above this CV of p50 over the repeats (default 0.05)"),
]


class Command(BaseCommand):
    help = (
        "Import a benchmark from train.npz and test.npz (arrays x float, y integer) and a "
        "TorchScript reference model; validates them, measures the reference's accuracy on "
        "the test split, copies them into storage and creates or updates the benchmark."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--train", required=True, type=Path, help="train.npz with x, y")
        parser.add_argument("--test", required=True, type=Path, help="test.npz with x, y")
        parser.add_argument("--reference", required=True, type=Path, help="TorchScript model.pt")
        parser.add_argument("--num-classes", type=int, help="default: the reference's output width")
        for option, kind, text in _OPTIONS:
            parser.add_argument(f"--{option.replace('_', '-')}", dest=option, type=kind, help=text)

    def handle(self, *args: Any, **options: Any) -> None:
        fields = {name: options[name] for name, _, _ in _OPTIONS if options.get(name) is not None}
        try:
            imported = benchmark_import(
                slug=options["slug"],
                name=options["name"],
                train_path=options["train"],
                test_path=options["test"],
                reference_path=options["reference"],
                num_classes=options["num_classes"],
                fields=fields,
                # A new benchmark gets the default budget tracks (docs/search-cost.md); an
                # existing one keeps what the operator made of its tracks, deletions included.
                on_create=tracks_ensure_defaults,
            )
        except BenchmarkDataError as exc:
            raise CommandError(str(exc)) from None
        benchmark = imported.benchmark
        self.stdout.write(
            f"{'created' if imported.created else 'updated'} benchmark {benchmark.slug}: "
            f"{benchmark.num_classes} classes, input {benchmark.input_shape}, data version "
            f"{benchmark.data_version}{'' if imported.data_written else ' (files unchanged)'}, "
            f"reference accuracy {benchmark.reference_accuracy:.4f}, "
            f"accuracy floor {benchmark.accuracy_floor():.4f}"
        )
