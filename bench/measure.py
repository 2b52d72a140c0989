"""What the harness measures on one running process; every call is bounded.

Times are client-side wall clock (``time.perf_counter``) over loopback.
"""

from __future__ import annotations

import http.client
import json
import random
import struct
import subprocess
import sys
import time
from pathlib import Path

from bench.processes import PREDICT_ROW, Probe, TimedProcess, Variant
from tests.helpers.processes import process_tree

__all__ = [
    "batch_medians",
    "batch_probe",
    "batch_rates",
    "latencies",
    "peak_rss_mb",
    "percentile",
    "random_rows",
    "route_probes",
    "spawn_until_ok",
    "throughput",
    "tree_peak_rss_mb",
    "v2_binary_probe",
    "v2_json_probe",
    "warm",
]

#: Training range of the bundled Iris model's features (min, max per column).
_FEATURE_RANGES = ((4.3, 7.9), (2.0, 4.4), (1.1, 6.9), (0.1, 2.5))
_TIMEOUT = 60.0


def spawn_until_ok(variant: Variant, probe: Probe, log_dir: Path) -> tuple[TimedProcess, float]:
    """Start ``variant`` and time spawn → first 200 on ``probe`` (seconds)."""
    process = TimedProcess(source=variant.source, env=dict(variant.env), probe=probe)
    process.log_path = log_dir / f"{variant.name}-{process.port}.log"
    started = time.perf_counter()
    try:
        process.start(timeout=_TIMEOUT)
    except BaseException:
        process.stop()
        raise
    return process, time.perf_counter() - started


def _send(conn: http.client.HTTPConnection, probe: Probe) -> bytes:
    conn.request(probe.method, probe.path, probe.body, probe.headers)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(
            f"{probe.method} {probe.path} answered {response.status}: {body[:200]!r}"
        )
    return body


def latencies(port: int, probe: Probe, count: int, warmup: int = 20) -> list[float]:
    """Seconds per request for ``count`` requests on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=_TIMEOUT)
    try:
        for _ in range(warmup):
            _send(conn, probe)
        timings = []
        for _ in range(count):
            started = time.perf_counter()
            _send(conn, probe)
            timings.append(time.perf_counter() - started)
        return timings
    finally:
        conn.close()


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in (0, 1])."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def throughput(port: int, probe: Probe, concurrency: int, seconds: float) -> float:
    """Requests per second answered 200, from a load generator in its own process."""
    command = [
        sys.executable,
        "-m",
        "bench.loadgen",
        f"--port={port}",
        f"--concurrency={concurrency}",
        f"--seconds={seconds}",
        f"--method={probe.method}",
        f"--path={probe.path}",
        f"--body={(probe.body or b'').decode()}",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + _TIMEOUT, check=True
    )
    result = json.loads(done.stdout)
    if result["other"]:
        raise RuntimeError(f"{result['other']} answers were not 200 under load")
    return float(result["rps"])


def random_rows(rows: int, seed: int) -> list[list[float]]:
    """``rows`` random rows inside the training range, one decimal like the Iris data."""
    rng = random.Random(seed)
    return [[round(rng.uniform(lo, hi), 1) for lo, hi in _FEATURE_RANGES] for _ in range(rows)]


def batch_probe(rows: int, seed: int = 0) -> Probe:
    """``POST /predict`` with ``{"instances": [...]}`` of ``rows`` random rows."""
    body = json.dumps({"instances": random_rows(rows, seed)}).encode()
    return Probe("POST", "/predict", body)


def v2_json_probe(
    rows: list[list[float]], datatype: str = "FP32", outputs: tuple[str, ...] = ()
) -> Probe:
    """``POST /v2/models/iris/infer`` with ``rows`` as one JSON tensor (flat data), the
    request Triton, KServe and MLServer clients send; the ``outputs`` named, else the
    server's default ones."""
    tensor = {
        "name": "input-0",
        "shape": [len(rows), len(_FEATURE_RANGES)],
        "datatype": datatype,
        "data": [value for row in rows for value in row],
    }
    request: dict[str, object] = {"inputs": [tensor]}
    if outputs:
        request["outputs"] = [{"name": name} for name in outputs]
    return Probe("POST", "/v2/models/iris/infer", json.dumps(request).encode())


def v2_binary_probe(rows: int, seed: int = 0) -> Probe:
    """``POST /v2/models/iris/infer`` with the rows as an FP64 binary tensor, binary outputs."""
    values = [value for row in random_rows(rows, seed) for value in row]
    binary = struct.pack(f"<{len(values)}d", *values)
    outputs = [
        {"name": name, "parameters": {"binary_data": True}}
        for name in ("predict", "predict_proba", "label")
    ]
    tensor = {
        "name": "input-0",
        "shape": [rows, len(_FEATURE_RANGES)],
        "datatype": "FP64",
        "parameters": {"binary_data_size": len(binary)},
    }
    header = json.dumps({"inputs": [tensor], "outputs": outputs}).encode()
    return Probe(
        "POST",
        "/v2/models/iris/infer",
        header + binary,
        (
            ("Content-Type", "application/octet-stream"),
            ("Inference-Header-Content-Length", str(len(header))),
        ),
    )


def batch_rates(port: int, probe: Probe, rows: int, repeats: int) -> list[float]:
    """Rows per second, end to end (send, score, read the whole answer), per repeat."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=_TIMEOUT)
    try:
        _send(conn, probe)  # first batch: warms the numpy path
        rates = []
        for _ in range(repeats):
            started = time.perf_counter()
            _send(conn, probe)
            rates.append(rows / (time.perf_counter() - started))
        return rates
    finally:
        conn.close()


def warm(port: int, probe: Probe, requests: int, seconds: float) -> dict[str, float]:
    """Warm latency p50/p99 (ms) over ``requests`` keep-alive requests, and throughput
    (req/s) at 4 and 16 connections for ``seconds`` each."""
    timings = latencies(port, probe, requests)
    return {
        "warm_p50_ms": percentile(timings, 0.50) * 1000,
        "warm_p99_ms": percentile(timings, 0.99) * 1000,
        "throughput_c4_rps": throughput(port, probe, 4, seconds),
        "throughput_c16_rps": throughput(port, probe, 16, seconds),
    }


def batch_medians(
    port: int, batches: dict[str, Probe], rows: int, repeats: int
) -> dict[str, float]:
    """Each batch probe's median rows per second (``batch_rates``), under its key."""
    return {
        key: percentile(batch_rates(port, probe, rows, repeats), 0.5)
        for key, probe in batches.items()
    }


def peak_rss_mb(pid: int) -> float:
    """``VmHWM`` (peak resident set size) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmHWM for process {pid}")


def tree_peak_rss_mb(root: int) -> float:
    """The sum of ``VmHWM`` over ``root`` and its descendants, in MiB: what a process tree
    (a server's master and its workers) needed at its peak, counted per process."""
    total = 0.0
    for pid in process_tree(root):
        try:
            total += peak_rss_mb(pid)
        except (OSError, LookupError):  # ended while we looked, or a kernel thread
            continue
    return total


def route_probes() -> dict[str, Probe]:
    """One Iris row on each route but the native one (its cold start is the predict
    sample's), by the metric its spawn → first 200 is recorded as: KServe V1, V2 JSON (FP32,
    as clients send it) and a V2 binary tensor."""
    row = PREDICT_ROW  # the V1 and V2 JSON probes send the native probe's row
    v1 = Probe("POST", "/v1/models/iris:predict", json.dumps({"instances": [row]}).encode())
    return {
        "cold_v1_ms": v1,
        "cold_v2_json_ms": v2_json_probe([row]),
        "cold_v2_binary_ms": v2_binary_probe(1),
    }
