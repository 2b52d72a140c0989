"""A bounded load test: wrk against the real process, valid and invalid requests mixed.

    python -m bench.load [--seconds 60] [--connections 16] [--threads 2] [--output FILE]

Starts ``functions-framework`` serving the bundled model (``bench.processes.FunctionProcess``,
lazy loading, every request logged as in production), then drives it with wrk
(the Debian package ``wrk``) and a Lua script that cycles through :data:`MIX` on
every connection. A held load means: no 5xx, no status outside :data:`EXPECTED`,
no socket error (connect, read, write, timeout). Prints one JSON object (req/s,
latency p50/p99 in ms, answers by status, socket errors) and exits 1 on a breach.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

from tests.helpers.processes import FunctionProcess

__all__ = ["EXPECTED", "MIX", "Request", "lua_script", "main", "run"]

MAX_ROWS = 64
MAX_BODY = 16_384  # an oversized body stays within what gunicorn drains (64 KiB)
JSON = {"Content-Type": "application/json"}
#: A row the bundled model predicts as setosa.
SETOSA = [5.1, 3.5, 1.4, 0.2]


class Request(NamedTuple):
    """One request of the mix and the status it must get."""

    method: str
    path: str
    body: bytes
    headers: dict[str, str]
    status: int


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode()


_PUSH = {
    "message": {
        "data": base64.b64encode(_json({"features": SETOSA})).decode(),
        "messageId": "load-1",
    },
    "subscription": "projects/load/subscriptions/push",
}
_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
_NAMED = dict(zip(_FEATURES, SETOSA, strict=True))
_TENSOR = {"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP64", "data": SETOSA * 2}]}

#: The mix, cycled in order on each connection: 9 valid requests, 10 invalid ones.
MIX: tuple[Request, ...] = (
    Request("POST", "/predict", _json({"features": SETOSA}), JSON, 200),
    Request("POST", "/", _json({"features": _NAMED}), JSON, 200),
    Request(
        "POST", "/predict", _json({"instances": [SETOSA, [6.5, 3.0, 5.5, 2.0]] * 4}), JSON, 200
    ),
    Request("POST", "/predict", _json({"features": [50.0, 3.5, 1.4, 0.2]}), JSON, 200),
    Request("POST", "/v1/models/iris:predict", _json({"instances": [SETOSA] * 2}), JSON, 200),
    Request("POST", "/v2/models/iris/infer", _json(_TENSOR), JSON, 200),
    Request("POST", "/predict", _json(_PUSH), JSON, 200),
    Request("GET", "/", b"", {}, 200),
    Request("GET", "/model-info", b"", {}, 200),
    Request("POST", "/predict", b'{"features": [5.1, 3.5', JSON, 400),
    Request("POST", "/predict", b'{"features": [NaN, 3.5, 1.4, 0.2]}', JSON, 400),
    Request("POST", "/predict", _json({"features": SETOSA[:3]}), JSON, 400),
    Request("POST", "/", _json({"instances": [SETOSA, [1, 2, "x", 4]]}), JSON, 400),
    Request("POST", "/predict", b'{"features": [5.1, 3.5, 1.4, 0.2]}\xff', JSON, 400),
    Request("POST", "/predict", _json({"features": SETOSA}), {"Content-Type": "text/plain"}, 415),
    Request("GET", "/predict", b"", {}, 405),
    Request("GET", "/nope", b"", {}, 404),
    Request("POST", "/predict", _json({"instances": [SETOSA] * (MAX_ROWS + 1)}), JSON, 413),
    Request("POST", "/predict", b" " * MAX_BODY + b"{}", JSON, 413),
)
EXPECTED = frozenset(request.status for request in MIX)


def _lua_string(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return '"' + "".join(f"\\{byte}" for byte in raw) + '"'


def lua_script(mix: tuple[Request, ...] = MIX) -> str:
    """The wrk script: cycle through ``mix``, count answers by status, print JSON when done."""
    entries = []
    for request in mix:
        headers = ", ".join(
            f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in request.headers.items()
        )
        body = _lua_string(request.body) if request.body else "nil"
        entries.append(
            f"  wrk.format({_lua_string(request.method)}, {_lua_string(request.path)}, "
            f"{{{headers}}}, {body}),"
        )
    return "\n".join(
        [
            "local requests = {",
            *entries,
            "}",
            "local threads = {}",
            "function setup(thread) table.insert(threads, thread) end",
            "function init(args) counts = {}; index = 0 end",
            "function request()",
            "  index = index % #requests + 1",
            "  return requests[index]",
            "end",
            "function response(status, headers, body)",
            "  counts[status] = (counts[status] or 0) + 1",
            "end",
            "function done(summary, latency, requests)",
            "  local total = {}",
            "  for _, thread in ipairs(threads) do",
            '    for status, n in pairs(thread:get("counts")) do',
            "      total[status] = (total[status] or 0) + n",
            "    end",
            "  end",
            "  local parts = {}",
            "  for status, n in pairs(total) do",
            '    table.insert(parts, string.format("\\"%d\\": %d", status, n))',
            "  end",
            "  local e = summary.errors",
            "  io.write(string.format(",
            '    "{\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, \\"p99_us\\": %d, "'
            ' .. "\\"max_us\\": %d, \\"statuses\\": {%s}, \\"errors\\": {\\"connect\\": %d, "'
            ' .. "\\"read\\": %d, \\"write\\": %d, \\"timeout\\": %d}}\\n",',
            "    summary.requests, summary.duration, latency:percentile(50),"
            ' latency:percentile(99), latency.max, table.concat(parts, ", "),',
            "    e.connect, e.read, e.write, e.timeout))",
            "end",
        ]
    )


def run(seconds: int, connections: int, threads: int) -> dict[str, Any]:
    """Serve, load, and summarise one run."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench.load needs wrk: apt-get install -y wrk")
    env = {
        "IRISSERVE_MAX_BATCH_ROWS": str(MAX_ROWS),
        "IRISSERVE_MAX_BODY_BYTES": str(MAX_BODY),
    }
    with tempfile.TemporaryDirectory(prefix="irisserve-load-") as tmp:
        script = Path(tmp) / "mix.lua"
        script.write_text(lua_script())
        server = FunctionProcess(env=env, log_path=Path(tmp) / "server.log")
        with server:
            command = [
                wrk,
                f"--threads={threads}",
                f"--connections={connections}",
                f"--duration={seconds}s",
                "--timeout=10s",
                f"--script={script}",
                server.url,
            ]
            completed = subprocess.run(command, capture_output=True, text=True, check=True)
            log_lines = len(server.log_lines())
    raw = json.loads(completed.stdout.strip().splitlines()[-1])
    statuses = {int(status): n for status, n in raw["statuses"].items()}
    answered = sum(statuses.values())
    return {
        "seconds": seconds,
        "connections": connections,
        "threads": threads,
        "requests": raw["requests"],
        "answered": answered,
        "requests_per_second": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "latency_ms": {
            "p50": raw["p50_us"] / 1000,
            "p99": raw["p99_us"] / 1000,
            "max": raw["max_us"] / 1000,
        },
        "statuses": dict(sorted(statuses.items())),
        "valid_share": round(sum(r.status == 200 for r in MIX) / len(MIX), 3),
        "server_errors": sum(n for status, n in statuses.items() if status >= 500),
        "unexpected_statuses": sorted(set(statuses) - EXPECTED),
        "socket_errors": raw["errors"],
        "server_log_lines": log_lines,
    }


def breaches(result: dict[str, Any]) -> list[str]:
    """What makes the run a failure; empty when the load was held."""
    found = []
    if result["server_errors"]:
        found.append(f"{result['server_errors']} server errors (5xx)")
    if result["unexpected_statuses"]:
        found.append(f"unexpected statuses {result['unexpected_statuses']}")
    if any(result["socket_errors"].values()):
        found.append(f"socket errors {result['socket_errors']}")
    if result["answered"] == 0:
        found.append("no request was answered")
    return found


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, help="also write the JSON summary here")
    args = parser.parse_args(argv)
    result = run(args.seconds, args.connections, args.threads)
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
    problems = breaches(result)
    for problem in problems:
        print(f"load not held: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
