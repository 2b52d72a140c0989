"""Batch scoring: irisserve's command against a plain Python script and Beam's own handler.

    python -m bench.batch                 # 1,000,000 JSONL rows (make bench-batch)
    python -m bench.batch --rows 200000   # a quicker look

Writes the rows to JSONL files, then scores the same files, in this process, with:

- ``irisserve/<runner>``: ``python -m irisserve.batch`` (``cli.main``) on Beam's
  ``FnApiRunner`` and on ``DirectRunner``, one worker;
- ``irisserve-loop``: the same chunks through the same calls (``read_chunks``,
  ``answer_bodies``, ``chunk_lines``) in a plain loop, no Beam: what Beam costs;
- ``python-peer``: a plain script — ``json.loads`` per line, the bundled ``model.joblib``'s
  ``predict_proba`` on numpy chunks of 10,000 rows, ``json.dumps`` per answer;
- ``beam-sklearn/<runner>``: Beam's ``RunInference`` with its ``SklearnModelHandlerNumpy``
  on the same ``model.joblib`` (``predict_proba``), ``ReadFromText``/``WriteToText``.

Each round runs every contender once, in turn (the machine is shared: a round sees the
same load for all); each figure is the median over ``--rounds``. Seconds are wall clock
from the call to the last line written (Python's start and imports excluded); CPU seconds
are this process's (every thread), so rows per CPU second is rows/s per core. Results go to
``bench/results/batch.{json,md}``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import joblib  # imported here, not in a run: every run's imports are paid before timing
import numpy as np
import sklearn.linear_model  # noqa: F401  (the estimator's module, imported by joblib.load)

from bench.report import machine
from irisserve.batch import cli
from irisserve.batch.answers import answer_bodies
from irisserve.batch.handler import ArtifactModelHandler
from irisserve.batch.output import chunk_lines
from irisserve.batch.records import CHUNK_BYTES, read_chunks
from irisserve.config import BUNDLED_MODEL_DIR, Settings

__all__ = ["main"]

RESULTS = Path(__file__).resolve().parent / "results"
RUNNERS = ("FnApiRunner", "DirectRunner")
#: Rows per predict_proba call of the plain Python peer.
PEER_CHUNK = 10_000
#: Iris-like ranges, a little wider than training so some rows carry drift warnings.
RANGES = ((4.0, 8.2), (1.8, 4.6), (0.8, 7.2), (0.0, 2.7))
#: (contender, peer) pairs whose ratio is reported, with the target for it.
RATIOS = {
    ("irisserve/FnApiRunner", "python-peer"): 1.5,
    ("irisserve/FnApiRunner", "beam-sklearn/FnApiRunner"): 1.5,
    ("irisserve/DirectRunner", "beam-sklearn/DirectRunner"): 1.5,
    ("irisserve-loop", "python-peer"): None,
}
PER_CORE_TARGET = 100_000


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


def irisserve(runner: str) -> Callable[[Sequence[Path], Path], int]:
    """``python -m irisserve.batch`` on ``runner``; the rows it scored."""

    def command(paths: Sequence[Path], output: Path) -> int:
        pattern = str(paths[0].parent / "part-*.jsonl")
        argv = ["--input", pattern, "--output", str(output / "scored"), f"--runner={runner}"]
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            status = cli.main(argv)
        if status:
            raise RuntimeError(f"the command failed ({status}): {out.getvalue()}")
        return int(out.getvalue().split(", scored ")[1].split(",")[0])

    return command


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            yield block


def irisserve_loop(paths: Sequence[Path], output: Path) -> int:
    """The pipeline's calls on the pipeline's chunks, in a plain loop (the collector frozen
    first, as the pipeline's worker does: this process holds Beam's objects too)."""
    gc.freeze()
    handler = ArtifactModelHandler()
    model, settings = handler.load_model(), handler.settings
    scored = 0
    with (output / "loop.jsonl").open("wb") as out:
        for path in paths:
            for chunk in read_chunks(str(path), _blocks(path), "jsonl"):
                lines = chunk_lines(chunk, answer_bodies(model, chunk.bodies, settings))
                out.write(lines.answers + b"\n")
                scored += lines.scored
    return scored


def _answer(row_id: Any, probabilities: list[float], names: list[str]) -> str:
    """The peers' answer line: the row's id, class index and probabilities by class name."""
    label = max(range(len(probabilities)), key=probabilities.__getitem__)
    named = dict(zip(names, probabilities, strict=True))
    return json.dumps({"id": row_id, "prediction": label, "probabilities": named})


def python_peer(paths: Sequence[Path], output: Path) -> int:
    """A plain script: json.loads, predict_proba on chunks of 10,000, json.dumps."""
    estimator, names = joblib.load(BUNDLED_MODEL_DIR / "model.joblib"), _class_names()
    scored = 0
    with (output / "peer.jsonl").open("w") as out:
        for path in paths:
            with path.open() as handle:
                bodies = [json.loads(line) for line in handle]
            for start in range(0, len(bodies), PEER_CHUNK):
                part = bodies[start : start + PEER_CHUNK]
                rows = np.array([body["features"] for body in part], dtype=np.float64)
                probabilities = estimator.predict_proba(rows).tolist()
                for body, row in zip(part, probabilities, strict=True):
                    out.write(_answer(body["id"], row, names) + "\n")
                scored += len(part)
    return scored


def _class_names() -> list[str]:
    names: list[str] = json.loads((BUNDLED_MODEL_DIR / "manifest.json").read_text())["class_names"]
    return names


def beam_sklearn(runner: str) -> Callable[[Sequence[Path], Path], int]:
    """Beam's RunInference + SklearnModelHandlerNumpy (predict_proba), keyed by id."""

    def pipeline(paths: Sequence[Path], output: Path) -> int:
        import apache_beam as beam
        from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
        from apache_beam.ml.inference.sklearn_inference import (
            ModelFileType,
            SklearnModelHandlerNumpy,
        )
        from apache_beam.options.pipeline_options import PipelineOptions

        def proba(model: Any, batch: Sequence[Any], inference_args: Any = None) -> Any:
            return model.predict_proba(np.stack(batch, axis=0))

        def keyed(line: str) -> tuple[Any, Any]:
            body = json.loads(line)
            return body["id"], np.asarray(body["features"], dtype=np.float64)

        handler = SklearnModelHandlerNumpy(
            model_uri=str(BUNDLED_MODEL_DIR / "model.joblib"),
            model_file_type=ModelFileType.JOBLIB,
            inference_fn=proba,
        )
        names = _class_names()
        pattern = str(paths[0].parent / "part-*.jsonl")
        with beam.Pipeline(options=PipelineOptions([f"--runner={runner}"])) as run:
            _ = (
                run
                | beam.io.ReadFromText(pattern)
                | beam.Map(keyed)
                | RunInference(KeyedModelHandler(handler))
                | beam.MapTuple(lambda key, r: _answer(key, r.inference.tolist(), names))
                | beam.io.WriteToText(str(output / "sklearn"), file_name_suffix=".jsonl")
            )
        return sum(len(part.read_bytes().splitlines()) for part in output.glob("sklearn-*.jsonl"))

    return pipeline


def contenders() -> dict[str, Callable[[Sequence[Path], Path], int]]:
    """Every run, by name."""
    found: dict[str, Callable[[Sequence[Path], Path], int]] = {}
    for runner in RUNNERS:
        found[f"irisserve/{runner}"] = irisserve(runner)
    found["irisserve-loop"] = irisserve_loop
    found["python-peer"] = python_peer
    for runner in RUNNERS:
        found[f"beam-sklearn/{runner}"] = beam_sklearn(runner)
    return found


def timed(
    run: Callable[[Sequence[Path], Path], int], paths: Sequence[Path], output: Path
) -> tuple[float, float, int]:
    """Wall and CPU seconds of one run, and the rows it scored. The collector starts clean
    (irisserve's worker freezes it) so no run inherits another's heap."""
    gc.unfreeze()
    gc.collect()
    output.mkdir(parents=True)
    wall, cpu = time.perf_counter(), time.process_time()
    rows = run(paths, output)
    return time.perf_counter() - wall, time.process_time() - cpu, rows


def load_ms(repeats: int = 20) -> float:
    """Median milliseconds to verify and load the bundled artifact (what each worker pays)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        ArtifactModelHandler(settings=Settings()).load_model()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


def summarise(rows: int, measured: dict[str, list[tuple[float, float]]]) -> dict[str, Any]:
    """Medians per run, the ratios to each peer and the per-core figure against targets."""
    runs = {}
    for name, samples in measured.items():
        seconds = statistics.median(wall for wall, _ in samples)
        cpu = statistics.median(cpu for _, cpu in samples)
        runs[name] = {
            "seconds": [round(wall, 3) for wall, _ in samples],
            "median_seconds": round(seconds, 6),
            "median_cpu_seconds": round(cpu, 6),
            "rows_per_s": round(rows / seconds),
            "rows_per_cpu_s": round(rows / cpu),
        }
    ratios = [
        {
            "run": run,
            "peer": peer,
            "ratio": round(runs[run]["rows_per_s"] / runs[peer]["rows_per_s"], 2),
            "target": target,
        }
        for (run, peer), target in RATIOS.items()
        if run in runs and peer in runs
    ]
    per_core = runs.get("irisserve/FnApiRunner", {}).get("rows_per_cpu_s")
    return {"runs": runs, "ratios": ratios, "per_core": per_core}


def to_markdown(data: dict[str, Any]) -> str:
    """The results as a short Markdown page."""
    lines = [
        f"# Batch scoring: {data['rows']:,} JSONL rows in {data['files']} files",
        "",
        f"Machine: {data['machine']['nproc']} x {data['machine']['cpu']}, "
        f"load average {' '.join(data['machine']['loadavg'])} (at the end); "
        f"median of {data['rounds']} rounds, each running every contender once.",
        "",
        "| run | seconds (each round) | rows/s | rows per CPU second |",
        "| --- | --- | ---: | ---: |",
    ]
    for name, run in data["runs"].items():
        rounds = ", ".join(f"{s:.2f}" for s in run["seconds"])
        lines.append(f"| {name} | {rounds} | {run['rows_per_s']:,} | {run['rows_per_cpu_s']:,} |")
    lines += ["", "| ratio of rows/s | value | target |", "| --- | ---: | ---: |"]
    for item in data["ratios"]:
        target = "-" if item["target"] is None else f"≥ {item['target']}x"
        lines.append(f"| {item['run']} / {item['peer']} | {item['ratio']}x | {target} |")
    if data["per_core"] is not None:
        lines += [
            "",
            f"irisserve/FnApiRunner per core: {data['per_core']:,} rows per CPU second "
            f"(target ≥ {PER_CORE_TARGET:,}).",
        ]
    lines += ["", f"Model verify + load: {data['model_load_ms']} ms per worker process.", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write the results."""
    parse = argparse.ArgumentParser(prog="python -m bench.batch", description=__doc__)
    parse.add_argument("--rows", type=int, default=1_000_000)
    parse.add_argument("--files", type=int, default=8)
    parse.add_argument("--rounds", type=int, default=3)
    parse.add_argument("--only", nargs="*", help="run only these contenders (default: all)")
    parse.add_argument("--output", type=Path, default=RESULTS)
    args = parse.parse_args(argv)
    runs = contenders()
    chosen = {name: runs[name] for name in args.only or runs}
    measured: dict[str, list[tuple[float, float]]] = {name: [] for name in chosen}
    with tempfile.TemporaryDirectory(prefix="irisserve-bench-batch-") as temporary:
        folder = Path(temporary)
        (folder / "in").mkdir()
        paths = write_inputs(folder / "in", args.rows, args.files)
        for round_number in range(args.rounds):
            for name, run in chosen.items():
                out = folder / f"out-{round_number}-{name.replace('/', '-')}"
                wall, cpu, rows = timed(run, paths, out)
                if rows != args.rows:
                    raise RuntimeError(f"{name} scored {rows} of {args.rows} rows")
                measured[name].append((wall, cpu))
                print(f"round {round_number + 1} {name}: {wall:.2f} s", file=sys.stderr)
    data = {
        "rows": args.rows,
        "files": args.files,
        "rounds": args.rounds,
        "chunk_bytes": CHUNK_BYTES,
        "machine": machine(),
        **summarise(args.rows, measured),
        "model_load_ms": load_ms(),
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "batch.json").write_text(json.dumps(data, indent=2) + "\n")
    (args.output / "batch.md").write_text(to_markdown(data))
    print(to_markdown(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
