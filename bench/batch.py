"""Batch scoring at scale: Beam on the local runner vs a plain loop over the same library call.

    python -m bench.batch                 # 1,000,000 JSONL rows (make bench-batch)
    python -m bench.batch --rows 20000    # a quick look

Writes the rows to JSONL files, then scores them three ways and reports rows/s:

- ``loop``: one process reads every file, answers batches of ``LOOP_BATCH`` rows with
  ``irisserve.batch.answers.answer_bodies`` (the call the pipeline makes) and writes the
  answer lines; no Beam;
- ``beam-1``: ``python -m irisserve.batch``'s pipeline on Beam's FnApiRunner, in memory, one
  worker;
- ``beam-N``: the same with one SDK worker process per core (``multi_processing``).

A batch-size sweep of ``answer_bodies`` alone, and the model's load time, explain the
handler's batch bounds and why the model is not shared across processes. The figure for
N Dataflow workers is an extrapolation (rows/s per core here x cores), written as such.
Results go to ``bench/results/batch.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions

from bench.report import machine
from irisserve.batch.answers import answer_bodies
from irisserve.batch.cli import LOCAL_RUNNER
from irisserve.batch.handler import ArtifactModelHandler
from irisserve.batch.pipeline import run
from irisserve.batch.records import Record, read_records
from irisserve.config import Settings
from irisserve.jsoncodec import encode

__all__ = ["main"]

RESULTS = Path(__file__).resolve().parent / "results"
SWEEP = (1, 8, 64, 256, 1024, 4096, 16384)
#: Rows per batch of the plain loop: about what the handler's byte bounds give Iris rows.
LOOP_BATCH = 1024
#: Iris-like ranges, a little wider than training so some rows carry drift warnings.
RANGES = ((4.0, 8.2), (1.8, 4.6), (0.8, 7.2), (0.0, 2.7))


def write_inputs(folder: Path, rows: int, files: int, seed: int = 16) -> list[Path]:
    """``rows`` native bodies with ids, spread over ``files`` JSONL files."""
    rng = random.Random(seed)
    paths = [folder / f"part-{index:03d}.jsonl" for index in range(files)]
    handles = [path.open("w") for path in paths]
    for number in range(rows):
        row = [round(rng.uniform(low, high), 1) for low, high in RANGES]
        handles[number % files].write(json.dumps({"id": number, "features": row}) + "\n")
    for handle in handles:
        handle.close()
    return paths


def _records(paths: Sequence[Path]) -> Iterator[Record]:
    for path in paths:
        with path.open("rb") as handle:
            yield from read_records(str(path), handle, "jsonl")


def plain_loop(paths: Sequence[Path], output: Path, batch: int = LOOP_BATCH) -> float:
    """Seconds to read, answer and write every row in this process, without Beam."""
    handler = ArtifactModelHandler()
    started = time.perf_counter()
    model, settings = handler.load_model(), handler.settings
    with output.open("wb") as out:
        pending: list[Record] = []
        for record in [*_records(paths), None]:
            if record is not None:
                pending.append(record)
            if len(pending) == batch or (record is None and pending):
                outcomes = answer_bodies(model, [r.body for r in pending], settings)
                for item, outcome in zip(pending, outcomes, strict=True):
                    out.write(encode({**item.source(), **(outcome.answer or {})}) + b"\n")
                pending = []
    return time.perf_counter() - started


def beam_run(pattern: str, output: Path, workers: int) -> tuple[float, dict[str, int]]:
    """Seconds for the whole pipeline (start-up included) and its counts."""
    mode = "in_memory" if workers == 1 else "multi_processing"
    options = PipelineOptions(
        [
            f"--runner={LOCAL_RUNNER}",
            f"--direct_running_mode={mode}",
            f"--direct_num_workers={workers}",
        ]
    )
    started = time.perf_counter()
    counts = run(options, pattern, str(output / "scored"), "jsonl", ArtifactModelHandler())
    seconds = time.perf_counter() - started
    if counts.scored != counts.read or counts.rejected:
        raise RuntimeError(f"every generated row is valid, yet: {counts.summary()}")
    return seconds, {"read": counts.read, "scored": counts.scored, "loads": counts.model_loads}


def sweep(paths: Sequence[Path], rows: int) -> dict[str, float]:
    """rows/s of ``answer_bodies`` alone for each batch size, on the first ``rows`` rows."""
    handler = ArtifactModelHandler()
    model, settings = handler.load_model(), handler.settings
    bodies = [record.body for _, record in zip(range(rows), _records(paths), strict=False)]
    figures = {}
    for size in SWEEP:
        started = time.perf_counter()
        for start in range(0, len(bodies), size):
            answer_bodies(model, bodies[start : start + size], settings)
        figures[str(size)] = round(len(bodies) / (time.perf_counter() - started))
    return figures


def load_ms(repeats: int = 20) -> float:
    """Median milliseconds to verify and load the bundled artifact (what each worker pays)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        ArtifactModelHandler(settings=Settings()).load_model()
        times.append((time.perf_counter() - started) * 1000)
    return round(sorted(times)[len(times) // 2], 3)


def to_markdown(data: dict[str, Any]) -> str:
    """The results as a short Markdown page."""
    lines = [
        f"# Batch scoring: {data['rows']:,} JSONL rows",
        "",
        f"Machine: {data['machine']['nproc']} x {data['machine']['cpu']}, "
        f"load average {' '.join(data['machine']['loadavg'])}.",
        "",
        "| run | seconds | rows/s |",
        "| --- | ---: | ---: |",
    ]
    for name, run_data in data["runs"].items():
        lines.append(f"| {name} | {run_data['seconds']:.1f} | {run_data['rows_per_s']:,} |")
    sweep_cells = ", ".join(f"{k}: {v:,}" for k, v in data["batch_sweep_rows_per_s"].items())
    lines += [
        "",
        f"answer_bodies alone, rows/s by batch size: {sweep_cells}.",
        f"Model verify + load: {data['model_load_ms']} ms per worker process.",
        "",
        f"Extrapolation (not measured): {data['extrapolation']['text']}",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write the results."""
    parse = argparse.ArgumentParser(prog="python -m bench.batch", description=__doc__)
    parse.add_argument("--rows", type=int, default=1_000_000)
    parse.add_argument("--files", type=int, default=8)
    parse.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parse.add_argument("--sweep-rows", type=int, default=100_000)
    parse.add_argument("--output", type=Path, default=RESULTS)
    parse.add_argument("--dataflow-workers", type=int, default=10)
    parse.add_argument("--dataflow-vcpus", type=int, default=4)
    args = parse.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="irisserve-bench-batch-") as temporary:
        folder = Path(temporary)
        paths = write_inputs(folder, args.rows, args.files)
        pattern = str(folder / "part-*.jsonl")
        runs: dict[str, dict[str, Any]] = {}
        seconds = plain_loop(paths, folder / "loop.jsonl")
        runs["loop"] = {"seconds": seconds}
        for workers in sorted({1, args.workers}):
            seconds, counts = beam_run(pattern, folder / f"beam-{workers}", workers)
            runs[f"beam-{workers}"] = {"seconds": seconds, **counts}
        figures = sweep(paths, min(args.sweep_rows, args.rows))
    for run_data in runs.values():
        run_data["rows_per_s"] = round(args.rows / run_data["seconds"])
    best = max(runs[f"beam-{w}"]["rows_per_s"] / w for w in sorted({1, args.workers}))
    cores = args.dataflow_workers * args.dataflow_vcpus
    data = {
        "rows": args.rows,
        "files": args.files,
        "machine": machine(),
        "runs": runs,
        "batch_sweep_rows_per_s": figures,
        "model_load_ms": load_ms(),
        "extrapolation": {
            "rows_per_s_per_core": round(best),
            "workers": args.dataflow_workers,
            "vcpus_per_worker": args.dataflow_vcpus,
            "rows_per_s": round(best * cores),
            "text": (
                f"{round(best):,} rows/s per core here x {args.dataflow_workers} Dataflow "
                f"workers x {args.dataflow_vcpus} vCPUs = ~{round(best * cores):,} rows/s, "
                "assuming scoring stays CPU-bound per core and input splits over at least "
                "as many files as cores (a file is read by one worker)"
            ),
        },
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "batch.json").write_text(json.dumps(data, indent=2) + "\n")
    (args.output / "batch.md").write_text(to_markdown(data))
    print(to_markdown(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
