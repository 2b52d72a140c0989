"""Cold start vs warm: irisserve beside a no-op function, under the real functions-framework.

    python -m bench.harness            # the default run (a few minutes)
    python -m bench.harness --quick    # under a minute, fewer and shorter samples

Each round starts every variant afresh, in an order that rotates from round to
round so machine noise hits all alike. One process per variant and round is timed
from spawn to its first predict 200 and then measured warm (latency, throughput
at 4 and 16 connections, peak RSS of the gunicorn worker, 10,000-row batches);
a second process is timed from spawn to its first ``GET /`` 200. The ``gcs``
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

from bench import measure, report
from bench.processes import HEALTH, PREDICT, VARIANTS, Probe, Variant, worker_pid
from tests.gcs_emulator import emulator_in, new_bucket
from tests.support import BUNDLED

__all__ = ["DEFAULT", "QUICK", "Plan", "main", "output_folder", "run"]

RESULTS = Path(__file__).resolve().parent / "results"
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
    process, cold = measure.spawn_until_ok(variant, PREDICT, logs)
    try:
        assert process.process is not None
        worker = worker_pid(process.process.pid)
        timings = measure.latencies(process.port, PREDICT, plan.requests)
        sample = {
            "cold_predict_ms": cold * 1000,
            "warm_p50_ms": measure.percentile(timings, 0.50) * 1000,
            "warm_p99_ms": measure.percentile(timings, 0.99) * 1000,
            "throughput_c4_rps": measure.throughput(process.port, PREDICT, 4, plan.seconds),
            "throughput_c16_rps": measure.throughput(process.port, PREDICT, 16, plan.seconds),
            "worker_rss_mb": measure.peak_rss_mb(worker),
        }
        for key, probe in batches.items():
            rates = measure.batch_rates(process.port, probe, plan.batch_rows, plan.batch_repeats)
            sample[key] = measure.percentile(rates, 0.5)
        sample["worker_rss_batch_mb"] = measure.peak_rss_mb(worker)
        return sample
    finally:
        process.stop()


def _health_sample(variant: Variant, logs: Path) -> float:
    process, cold = measure.spawn_until_ok(variant, HEALTH, logs)
    process.stop()
    return cold * 1000


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
    with (
        tempfile.TemporaryDirectory(prefix="irisserve-bench-") as tmp,
        _storage(variants, Path(tmp)) as variants,
    ):
        logs = Path(tmp)
        for round_index in range(plan.rounds):
            shift = round_index % len(variants)
            order = variants[shift:] + variants[:shift]
            for variant in order:
                sample = _predict_sample(variant, plan, batches, logs)
                sample["cold_health_ms"] = _health_sample(variant, logs)
                for key, value in sample.items():
                    samples[variant.name].setdefault(key, []).append(value)
                print(
                    f"round {round_index + 1}/{plan.rounds} {variant.name:8} "
                    f"cold {sample['cold_predict_ms']:7.1f} ms  "
                    f"p50 {sample['warm_p50_ms']:.3f} ms  "
                    f"c4 {sample['throughput_c4_rps']:6.0f}/s  "
                    f"rss {sample['worker_rss_mb']:5.1f} MiB  "
                    f"batch {sample['batch_rows_per_s']:9,.0f} rows/s",
                    file=sys.stderr,
                    flush=True,
                )
    return samples


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter samples (< 1 min)")
    parser.add_argument("--rounds", type=int, help="samples per variant")
    parser.add_argument("--requests", type=int, help="warm requests per sample")
    parser.add_argument("--seconds", type=float, help="seconds per throughput measurement")
    parser.add_argument("--batch-repeats", type=int, help="10,000-row requests per sample")
    parser.add_argument(
        "--variants",
        default=",".join(v.name for v in VARIANTS),
        help="comma-separated subset of: " + ", ".join(v.name for v in VARIANTS),
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="folder for latest.* (default: bench/results for the full default run, "
        "build/bench for any narrower one)",
    )
    parser.add_argument("--no-plot", action="store_true", help="skip latest.png")
    return parser


def _plan(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else DEFAULT
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


def output_folder(args: argparse.Namespace) -> Path:
    """``--output``, else the committed results for the full default run, else scratch."""
    if args.output is not None:
        return Path(args.output)
    narrowed = [args.rounds, args.requests, args.seconds, args.batch_repeats]
    every_variant = args.variants == _parser().get_default("variants")
    full = not args.quick and all(value is None for value in narrowed) and every_variant
    return RESULTS if full else SCRATCH


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parser().parse_args(argv)
    plan = _plan(args)
    known = {v.name: v for v in VARIANTS}
    wanted = [name.strip() for name in args.variants.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in known]
    if unknown or not wanted:
        raise SystemExit(f"unknown variants {unknown}; choose from {sorted(known)}")
    variants = tuple(known[name] for name in wanted)
    started = time.monotonic()
    info = {
        "command": shlex.join(["python", "-m", "bench.harness", *sys.argv[1:]])
        if argv is None
        else shlex.join(["python", "-m", "bench.harness", *argv]),
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "plan": asdict(plan),
        "machine": report.machine(),
    }
    samples = run(plan, variants)
    info["duration_seconds"] = round(time.monotonic() - started, 1)
    info["loadavg_after"] = report.machine()["loadavg"]
    result = report.summarise(samples, {v.name: v.label for v in variants}, info)
    output = output_folder(args)
    json_path, md_path = report.write(result, output)
    written = [json_path, md_path]
    if not args.no_plot:
        from bench.plot import write_png  # matplotlib stays out of everything else

        written.append(write_png(result, output / "latest.png"))
    print(report.to_markdown(result))
    print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
