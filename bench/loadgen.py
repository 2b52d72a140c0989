"""A small keep-alive HTTP load generator, run as its own process.

    python -m bench.loadgen --port 8080 --concurrency 4 --seconds 2 \
        --method POST --path /predict --body '{"features": [5.1, 3.5, 1.4, 0.2]}'

Opens ``--concurrency`` persistent connections to 127.0.0.1, each sending the
same request back to back until ``--seconds`` have passed, and prints one JSON
object: ``{"ok", "other", "seconds", "rps"}`` (``rps`` counts 200 answers only).
Running in its own process keeps the client off the harness's interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

__all__ = ["main", "run"]


def _request(port: int, method: str, path: str, body: bytes) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if method == "POST":
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode("ascii") + b"\r\n" + body


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise ValueError(f"response without Content-Length: {head[:200]!r}")


async def _connection(port: int, request: bytes, deadline: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(_content_length(head))
            counts[0 if head[9:12] == b"200" else 1] += 1
    finally:
        writer.close()
        await writer.wait_closed()


async def run(
    port: int, concurrency: int, seconds: float, method: str, path: str, body: bytes
) -> dict[str, float]:
    """Drive ``concurrency`` connections for ``seconds``; return the counts and the rate."""
    request = _request(port, method, path, body)
    counts = [0, 0]
    started = time.monotonic()
    await asyncio.gather(
        *(_connection(port, request, started + seconds, counts) for _ in range(concurrency))
    )
    elapsed = time.monotonic() - started
    return {"ok": counts[0], "other": counts[1], "seconds": elapsed, "rps": counts[0] / elapsed}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: print the result as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--method", default="GET", choices=["GET", "POST"])
    parser.add_argument("--path", default="/")
    parser.add_argument("--body", default="")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 60 or not 0 < args.concurrency <= 256:
        parser.error("--seconds must be in (0, 60] and --concurrency in (0, 256]")
    result = asyncio.run(
        run(args.port, args.concurrency, args.seconds, args.method, args.path, args.body.encode())
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
