"""Cold start vs warm: irisserve beside a no-op function, under the real functions-framework.

    python -m bench.harness            # the default run (a few minutes)
    python -m bench.harness --quick    # under a minute, fewer and shorter samples

Each round starts every variant afresh, in an order that rotates from round to
round so machine noise hits all alike. One process per variant and round is timed
from spawn to its first predict 200 and then measured warm (latency, throughput
at 4 and 16 connections, peak RSS of the gunicorn worker, 10,000-row batches);
a second process is timed from spawn to its first ``GET /`` 200, and one more each to its
first 200 on KServe V1, V2 JSON and V2 binary (one row). The ``gcs``
variant fetches the bundled model from ``gs://`` on a Cloud Storage emulator the
harness starts for the run. The full default run
writes ``bench/results/latest.{json,md,png}`` (committed); any narrower run (``--quick``,
fewer rounds, some variants) writes ``build/bench/`` unless ``--output`` says where, so a
scratch run never replaces the committed results. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bench import measure, report
from bench.processes import HEALTH, VARIANTS, Probe, Variant, compile_sources
from tests.helpers.gcs_emulator import emulator_in, new_bucket
from tests.helpers.processes import BUNDLED, worker_pid

__all__ = [
    "DEFAULT",
    "QUICK",
    "Plan",
    "add_run_options",
    "choose",
    "main",
    "output_folder",
    "plan_from",
    "publish",
    "record",
    "rotations",
    "run",
    "run_info",
]

RESULTS = Path(__file__).resolve().parent / "results"
T = TypeVar("T")
#: Where a narrower run writes when ``--output`` is not given (``build/`` is ignored by git).
SCRATCH = Path(__file__).resolve().parent.parent / "build" / "bench"


@dataclass(frozen=True)
class Plan:
    """How much to measure: rounds, requests and seconds per sample, batch size and repeats."""

    rounds: int
    requests: int
    seconds: float
    batch_rows: int
    batch_repeats: int


DEFAULT = Plan(rounds=6, requests=1000, seconds=2.0, batch_rows=10_000, batch_repeats=5)
QUICK = Plan(rounds=2, requests=200, seconds=0.5, batch_rows=10_000, batch_repeats=2)


def _predict_sample(
    variant: Variant, plan: Plan, batches: dict[str, Probe], logs: Path
) -> dict[str, float]:
    process, cold = measure.spawn_until_ok(variant, variant.predict, logs)
    try:
        assert process.process is not None
        worker = worker_pid(process.process.pid)
        sample = {
            "cold_predict_ms": cold * 1000,
            **measure.warm(process.port, variant.predict, plan.requests, plan.seconds),
            "worker_rss_mb": measure.peak_rss_mb(worker),
        }
        if not variant.batches:
            return sample
        if variant.batch is not None:
            batches = {"batch_rows_per_s": variant.batch}
        sample |= measure.batch_medians(process.port, batches, plan.batch_rows, plan.batch_repeats)
        sample["worker_rss_batch_mb"] = measure.peak_rss_mb(worker)
        return sample
    finally:
        process.stop()


def _cold_sample(variant: Variant, probe: Probe, logs: Path) -> float:
    process, cold = measure.spawn_until_ok(variant, probe, logs)
    process.stop()
    return cold * 1000


def rotations(rounds: int, items: tuple[T, ...]) -> Iterator[tuple[str, T]]:
    """Every item once a round, ``rounds`` times, the order rotating from round to round so
    machine noise hits all alike; each with its ``round i/n`` to print."""
    for index in range(rounds):
        shift = index % len(items)
        for item in items[shift:] + items[:shift]:
            yield f"round {index + 1}/{rounds}", item


def record(samples: dict[str, list[float]], sample: dict[str, float]) -> None:
    """Append each of ``sample``'s figures to its list in ``samples``."""
    for key, value in sample.items():
        samples.setdefault(key, []).append(value)


@contextlib.contextmanager
def _storage(variants: tuple[Variant, ...], workdir: Path) -> Iterator[tuple[Variant, ...]]:
    """The variants, those ``from_storage`` pointed at the bundled model in a local emulator."""
    if not any(v.from_storage for v in variants):
        yield variants
        return
    with emulator_in(workdir) as emulator:
        env = {
            "STORAGE_EMULATOR_HOST": emulator.host,
            "IRISSERVE_MODEL_DIR": f"gs://{new_bucket(emulator, BUNDLED)}/iris",
        }
        yield tuple(replace(v, env={**v.env, **env}) if v.from_storage else v for v in variants)


def run(plan: Plan, variants: tuple[Variant, ...]) -> dict[str, dict[str, list[float]]]:
    """Measure every variant ``plan.rounds`` times, round by round; return the raw samples."""
    samples: dict[str, dict[str, list[float]]] = {v.name: {} for v in variants}
    batches = {
        "batch_rows_per_s": measure.batch_probe(plan.batch_rows),
        "v2_batch_rows_per_s": measure.v2_binary_probe(plan.batch_rows),
    }
    routes = measure.route_probes()
    compile_sources()
    with (
        tempfile.TemporaryDirectory(prefix="irisserve-bench-") as tmp,
        _storage(variants, Path(tmp)) as variants,
    ):
        logs = Path(tmp)
        for shown, variant in rotations(plan.rounds, variants):
            sample = _predict_sample(variant, plan, batches, logs)
            sample["cold_health_ms"] = _cold_sample(variant, HEALTH, logs)
            for key, probe in routes.items() if variant.routes else ():
                sample[key] = _cold_sample(variant, probe, logs)
            record(samples[variant.name], sample)
            print(
                f"{shown} {variant.name:8} "
                f"cold {sample['cold_predict_ms']:7.1f} ms  "
                f"p50 {sample['warm_p50_ms']:.3f} ms  "
                f"c4 {sample['throughput_c4_rps']:6.0f}/s  "
                f"rss {sample['worker_rss_mb']:5.1f} MiB  "
                f"batch {sample.get('batch_rows_per_s', 0):9,.0f} rows/s",
                file=sys.stderr,
                flush=True,
            )
    return samples


def add_run_options(parser: argparse.ArgumentParser, quick_help: str, stem: str) -> None:
    """The options every run takes: ``--quick`` and the plan's counts (which narrow it),
    where ``<stem>.*`` go, and ``--no-plot``."""
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--rounds", type=int, help="samples per variant")
    parser.add_argument("--requests", type=int, help="warm requests per sample")
    parser.add_argument("--seconds", type=float, help="seconds per throughput measurement")
    parser.add_argument("--batch-repeats", type=int, help="10,000-row requests per sample")
    parser.add_argument(
        "--output",
        type=Path,
        help=f"folder for {stem}.* (default: bench/results for the full default run, "
        "build/bench for any narrower one)",
    )
    parser.add_argument("--no-plot", action="store_true", help=f"skip {stem}.png")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_options(parser, "fewer, shorter samples (< 1 min)", "latest")
    parser.add_argument(
        "--variants",
        default=",".join(v.name for v in VARIANTS),
        help="comma-separated subset of: " + ", ".join(v.name for v in VARIANTS),
    )
    return parser


def plan_from(args: argparse.Namespace, default: Plan = DEFAULT, quick: Plan = QUICK) -> Plan:
    """``quick`` or ``default``, with the counts the options give, within bounds."""
    plan = quick if args.quick else default
    overrides = {
        "rounds": args.rounds,
        "requests": args.requests,
        "seconds": args.seconds,
        "batch_repeats": args.batch_repeats,
    }
    plan = replace(plan, **{k: v for k, v in overrides.items() if v is not None})
    if not (
        0 < plan.rounds <= 50
        and 0 < plan.requests <= 100_000
        and 0 < plan.seconds <= 30
        and 0 < plan.batch_repeats <= 50
    ):
        raise SystemExit("bounds: rounds 1-50, requests 1-100000, seconds (0, 30], repeats 1-50")
    return plan


def output_folder(args: argparse.Namespace, everything: bool | None = None) -> Path:
    """``--output``, else the committed results for the full default run (``everything``
    measured: by default, every variant), else scratch."""
    if args.output is not None:
        return Path(args.output)
    if everything is None:
        everything = args.variants == _parser().get_default("variants")
    narrowed = [args.rounds, args.requests, args.seconds, args.batch_repeats]
    full = not args.quick and all(value is None for value in narrowed) and everything
    return RESULTS if full else SCRATCH


def choose(names: str, known: dict[str, T], what: str) -> tuple[T, ...]:
    """The ``known`` entries a comma-separated ``names`` list picks, in its order."""
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in known]
    if unknown or not wanted:
        raise SystemExit(f"unknown {what} {unknown}; choose from {sorted(known)}")
    return tuple(known[name] for name in wanted)


def run_info(module: str, argv: list[str] | None, plan: Plan) -> dict[str, Any]:
    """What a run records before it starts: its command, start time, plan and machine."""
    shown = sys.argv[1:] if argv is None else argv
    return {
        "command": shlex.join(["python", "-m", module, *shown]),
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "plan": asdict(plan),
        "machine": report.machine(),
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parser().parse_args(argv)
    plan = plan_from(args)
    variants = choose(args.variants, {v.name: v for v in VARIANTS}, "variants")
    started = time.monotonic()
    info = run_info("bench.harness", argv, plan)
    samples = run(plan, variants)
    info["duration_seconds"] = round(time.monotonic() - started, 1)
    info["loadavg_after"] = report.machine()["loadavg"]
    result = report.summarise(samples, {v.name: v.label for v in variants}, info)
    publish(result, output_folder(args), plot=not args.no_plot)
    return 0


def publish(
    result: dict[str, Any],
    output: Path,
    plot: bool,
    stem: str = "latest",
    metrics: tuple[report.Metric, ...] = report.METRICS,
    title: str = "irisserve vs the functions-framework floor",
) -> None:
    """Write ``<stem>.json``, ``.md`` and (``plot``) ``.png`` into ``output``; print the table."""
    written = list(report.write(result, output, stem, metrics))
    if plot:
        from bench.plot import write_png  # matplotlib stays out of everything else

        written.append(write_png(result, output / f"{stem}.png", metrics, title))
    print(report.to_markdown(result, metrics))
    print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
