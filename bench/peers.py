"""irisserve beside its peers: MLServer serving the same model, in one interleaved run.

    make bench-peers                          # installs bench/.venv-peers, then the run below
    python -m bench.peers                     # the default run (several minutes)
    python -m bench.peers --quick             # one short round

Four servers, each started afresh every round in an order that rotates from round to round:
the functions-framework floor (a no-op function), irisserve (the default lazy function, its
V2 route), and MLServer with its scikit-learn runtime serving the bundled ``model.joblib``,
as installed ("default": one parallel inference worker, the metrics server) and "lean"
(``parallel_workers: 0``, no metrics endpoint). Each is sent the same requests: a 1-row V2
JSON request with FP32 data (cold start to its first 200, warm latency, throughput at 4 and
16 connections) and 10,000-row batches: V2 JSON (FP32) asking for the default outputs
(irisserve's: predict, predict_proba and label; MLServer's: predict) and for ``predict``
alone, V2 binary (the binary tensor extension, which MLServer does not implement) and
irisserve's native ``instances``. Peak RSS
is summed over each server's process tree (master and workers). MLServer runs from its own
virtual environment (``--peers-bin``, made by ``make bench-peers`` from ``bench/peers.txt``),
never the project's. The full default run writes ``bench/results/peers.{json,md,png}``, any
narrower one ``build/bench/``. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import harness, measure, report
from bench.harness import Plan
from bench.processes import FLOOR_MAIN, PREDICT_ROW, Probe, Variant, compile_sources, wait_for_ok
from bench.report import Metric
from tests.helpers.processes import BUNDLED, MAIN, free_port

__all__ = [
    "DEFAULT",
    "METRICS",
    "PEERS_BIN",
    "QUICK",
    "SERVERS",
    "TARGETS",
    "MLServerProcess",
    "PeerTarget",
    "Server",
    "check_targets",
    "main",
    "mlserver_settings",
    "output_folder",
    "run",
]

HERE = Path(__file__).resolve().parent
PEERS_BIN = HERE / ".venv-peers" / "bin"

DEFAULT = Plan(rounds=5, requests=500, seconds=2.0, batch_rows=10_000, batch_repeats=5)
QUICK = Plan(rounds=1, requests=100, seconds=0.5, batch_rows=10_000, batch_repeats=1)
_TIMEOUT = 120.0

#: The 1-row request every server is timed with, from spawn and warm.
ROW = measure.v2_json_probe([PREDICT_ROW])

METRICS: tuple[Metric, ...] = (
    Metric("cold_ms", "spawn → first 200, 1-row V2 JSON", "ms"),
    Metric("warm_p50_ms", "warm latency p50, 1-row V2 JSON", "ms"),
    Metric("warm_p99_ms", "warm latency p99, 1-row V2 JSON", "ms"),
    Metric("throughput_c4_rps", "1-row V2 JSON, 4 connections", "req/s", higher_is_better=True),
    Metric("throughput_c16_rps", "1-row V2 JSON, 16 connections", "req/s", higher_is_better=True),
    Metric("tree_rss_mb", "process tree peak RSS, single rows", "MiB"),
    Metric("v2_json_rows_per_s", "10,000-row V2 JSON (FP32)", "rows/s", higher_is_better=True),
    Metric(
        "v2_json_predict_rows_per_s",
        "10,000-row V2 JSON, predict output only",
        "rows/s",
        higher_is_better=True,
    ),
    Metric("v2_binary_rows_per_s", "10,000-row V2 binary (FP64)", "rows/s", higher_is_better=True),
    Metric("native_rows_per_s", "10,000-row native instances", "rows/s", higher_is_better=True),
    Metric("tree_rss_batch_mb", "process tree peak RSS, after batches", "MiB"),
)


@dataclass(frozen=True)
class Server:
    """A server to measure: a functions-framework ``variant``, or MLServer with ``mlserver``
    settings (beyond host and ports); ``batches``: the 10,000-row requests it answers."""

    name: str
    label: str
    batches: frozenset[str]
    variant: Variant | None = None
    mlserver: dict[str, Any] | None = None


_V2_JSON = frozenset({"v2_json_rows_per_s", "v2_json_predict_rows_per_s"})
_ALL_BATCHES = _V2_JSON | {"v2_binary_rows_per_s", "native_rows_per_s"}
SERVERS: tuple[Server, ...] = (
    Server("floor", "no-op function (floor)", _ALL_BATCHES, Variant("floor", "", FLOOR_MAIN, {})),
    Server(
        "irisserve",
        "irisserve (V2 route)",
        _ALL_BATCHES,
        Variant("irisserve", "", MAIN, {"IRISSERVE_EAGER_LOAD": "0", "IRISSERVE_SCORER": "auto"}),
    ),
    Server("mlserver", "MLServer default", _V2_JSON, mlserver={}),
    Server(
        "mlserver-lean",
        "MLServer lean",
        _V2_JSON,
        mlserver={"parallel_workers": 0, "metrics_endpoint": None},
    ),
)


def mlserver_settings(extra: dict[str, Any], port: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """MLServer's ``settings.json`` and ``model-settings.json``: loopback only, the HTTP port
    given, free gRPC and metrics ports, the bundled model served as ``iris``."""
    settings = {
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": free_port(),
        "metrics_port": free_port(),
        **extra,
    }
    model = {
        "name": "iris",
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": str(BUNDLED / "model.joblib")},
    }
    return settings, model


@dataclass
class MLServerProcess:
    """``mlserver start`` in its own process group, ready once ``probe`` answers 200."""

    executable: Path
    extra: dict[str, Any]
    folder: Path
    probe: Probe
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.folder / "mlserver.log"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float) -> float:
        """Write the settings, start, wait for the first 200; seconds from spawn to it."""
        settings, model = mlserver_settings(self.extra, self.port)
        (self.folder / "settings.json").write_text(json.dumps(settings))
        (self.folder / "model-settings.json").write_text(json.dumps(model))
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        started = time.perf_counter()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(self.executable), "start", str(self.folder)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.folder,
                start_new_session=True,  # its workers share the group: stop() ends them all
            )
        try:
            wait_for_ok(self.process, self.port, self.probe, timeout, self.output)
        except BaseException:
            self.stop()
            raise
        return time.perf_counter() - started

    def stop(self) -> None:
        """End the group this process leads (it and its workers), politely first."""
        if self.process is None:
            return
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
                time.sleep(0.2)  # the workers end after the master
            except subprocess.TimeoutExpired:
                continue
        self.process.wait(timeout=10)


class _Running:
    """A started server of either kind: its HTTP port, root pid and how to stop it."""

    def __init__(self, port: int, pid: int, stop: Callable[[], None]) -> None:
        self.port, self.pid, self.stop = port, pid, stop


def _spawn(server: Server, logs: Path, peers_bin: Path) -> tuple[_Running, float]:
    if server.variant is not None:
        process, cold = measure.spawn_until_ok(server.variant, ROW, logs)
        assert process.process is not None
        return _Running(process.port, process.process.pid, process.stop), cold
    folder = Path(tempfile.mkdtemp(prefix=f"{server.name}-", dir=logs))
    peer = MLServerProcess(peers_bin / "mlserver", server.mlserver or {}, folder, ROW)
    cold = peer.start(_TIMEOUT)
    assert peer.process is not None
    return _Running(peer.port, peer.process.pid, peer.stop), cold


def _sample(
    server: Server, plan: Plan, batches: dict[str, Probe], logs: Path, peers_bin: Path
) -> dict[str, float]:
    running, cold = _spawn(server, logs, peers_bin)
    try:
        sample = {
            "cold_ms": cold * 1000,
            **measure.warm(running.port, ROW, plan.requests, plan.seconds),
            "tree_rss_mb": measure.tree_peak_rss_mb(running.pid),
        }
        answered = {key: probe for key, probe in batches.items() if key in server.batches}
        sample |= measure.batch_medians(running.port, answered, plan.batch_rows, plan.batch_repeats)
        sample["tree_rss_batch_mb"] = measure.tree_peak_rss_mb(running.pid)
        return sample
    finally:
        running.stop()


def run(
    plan: Plan, servers: tuple[Server, ...], peers_bin: Path = PEERS_BIN
) -> dict[str, dict[str, list[float]]]:
    """Measure every server ``plan.rounds`` times, round by round; return the raw samples."""
    rows = measure.random_rows(plan.batch_rows, seed=0)
    batches = {
        "v2_json_rows_per_s": measure.v2_json_probe(rows),
        "v2_json_predict_rows_per_s": measure.v2_json_probe(rows, outputs=("predict",)),
        "v2_binary_rows_per_s": measure.v2_binary_probe(plan.batch_rows),
        "native_rows_per_s": measure.batch_probe(plan.batch_rows),
    }
    samples: dict[str, dict[str, list[float]]] = {s.name: {} for s in servers}
    compile_sources()
    with tempfile.TemporaryDirectory(prefix="irisserve-peers-") as tmp:
        for shown, server in harness.rotations(plan.rounds, servers):
            sample = _sample(server, plan, batches, Path(tmp), peers_bin)
            harness.record(samples[server.name], sample)
            print(
                f"{shown} {server.name:13} "
                f"cold {sample['cold_ms']:7.1f} ms  p50 {sample['warm_p50_ms']:.3f} ms  "
                f"c4 {sample['throughput_c4_rps']:6.0f}/s  "
                f"rss {sample['tree_rss_mb']:5.1f} MiB  "
                f"v2 json {sample['v2_json_rows_per_s']:11,.0f} rows/s",
                file=sys.stderr,
                flush=True,
            )
    return samples


@dataclass(frozen=True)
class PeerTarget:
    """irisserve's ``metric`` against ``base`` (a server's ``base_metric``): a ratio at least
    or at most ``limit``, or at most ``limit`` MiB over it."""

    metric: str
    kind: str  # "ratio_min", "ratio_max" or "over_max"
    limit: float
    base: str
    base_metric: str = ""

    def describe(self, labels: dict[str, str]) -> str:
        other = labels.get(self.base, self.base)
        if self.base_metric and self.base_metric != self.metric:
            other += "'s " + next(m.title for m in METRICS if m.key == self.base_metric)
        return {
            "ratio_min": f"≥ {self.limit:g}x {other}",
            "ratio_max": f"≤ {self.limit:g}x {other}",
            "over_max": f"≤ {other} + {self.limit:g} MiB",
        }[self.kind]


TARGETS: tuple[PeerTarget, ...] = (
    PeerTarget("cold_ms", "ratio_max", 1.15, "floor"),
    PeerTarget("warm_p50_ms", "ratio_max", 1.15, "floor"),
    PeerTarget("throughput_c4_rps", "ratio_min", 0.90, "floor"),
    PeerTarget("throughput_c16_rps", "ratio_min", 0.90, "floor"),
    PeerTarget("v2_json_rows_per_s", "ratio_min", 1.5, "mlserver-lean"),
    PeerTarget("native_rows_per_s", "ratio_min", 1.0, "mlserver-lean", "v2_json_rows_per_s"),
    PeerTarget("v2_binary_rows_per_s", "ratio_min", 0.5, "floor"),
    PeerTarget("tree_rss_mb", "over_max", 12.0, "floor"),
    PeerTarget("tree_rss_batch_mb", "ratio_max", 1.0, "mlserver-lean"),
)


def check_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """irisserve against every target whose figures the run has."""
    variants = result["variants"]
    labels = {name: entry["label"] for name, entry in variants.items()}
    checked = []
    for target in TARGETS:
        if "irisserve" not in variants or target.base not in variants:
            continue
        mine = variants["irisserve"]["metrics"][target.metric]
        theirs = variants[target.base]["metrics"][target.base_metric or target.metric]
        if mine is None or theirs is None:
            continue
        if target.kind == "over_max":
            measured = mine["median"] - theirs["median"]
        else:
            measured = mine["median"] / theirs["median"]
        met = measured >= target.limit if target.kind == "ratio_min" else measured <= target.limit
        checked.append(
            {
                "metric": target.metric,
                "target": target.describe(labels),
                "measured": measured,
                "met": met,
            }
        )
    return checked


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    harness.add_run_options(parser, "one short round", "peers")
    parser.add_argument(
        "--servers",
        default=",".join(s.name for s in SERVERS),
        help="comma-separated subset of: " + ", ".join(s.name for s in SERVERS),
    )
    parser.add_argument(
        "--peers-bin", type=Path, default=PEERS_BIN, help="the bin folder holding mlserver"
    )
    return parser


def output_folder(args: argparse.Namespace) -> Path:
    """``--output``, else the committed results for the full default run, else scratch."""
    return harness.output_folder(args, args.servers == _parser().get_default("servers"))


def _servers(args: argparse.Namespace) -> tuple[Server, ...]:
    servers = harness.choose(args.servers, {s.name: s for s in SERVERS}, "servers")
    if any(s.mlserver is not None for s in servers) and not (args.peers_bin / "mlserver").exists():
        raise SystemExit(
            f"no mlserver in {args.peers_bin}: run `make bench-peers` (it installs "
            "bench/peers.txt into bench/.venv-peers), or pass --peers-bin"
        )
    return servers


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parser().parse_args(argv)
    plan = harness.plan_from(args, DEFAULT, QUICK)
    servers = _servers(args)
    started = time.monotonic()
    info = harness.run_info("bench.peers", argv, plan) | {
        "peers": [
            line
            for line in (HERE / "peers.txt").read_text().splitlines()
            if line and not line.startswith("#")
        ],
        "target_label": "irisserve (V2 route)",
    }
    samples = run(plan, servers, args.peers_bin)
    info["duration_seconds"] = round(time.monotonic() - started, 1)
    info["loadavg_after"] = report.machine()["loadavg"]
    result = report.summarise(samples, {s.name: s.label for s in servers}, info, METRICS)
    result["targets"] = check_targets(result)
    title = "irisserve beside MLServer"
    harness.publish(result, output_folder(args), not args.no_plot, "peers", METRICS, title)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
