"""Bounded load test: N concurrent clients mixing /search and /ask for S seconds against a running server.

    python -m tests.load.loadtest --url http://127.0.0.1:8000 --clients 32 --seconds 30
    python -m tests.load.loadtest --index index ...     # starts its own server on a free loopback port

Every request asks a distinct XQuAD question (bench/load.py), so the query cache never helps. Prints
p50/p95/p99 latency, requests/s and the server's CPU use, writes JSON (default test-artifacts/load.json);
exit 1 on any error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from isnad.bench.load import Result, run_load, run_load_blocking

__all__ = ["Result", "main", "report", "run_load", "run_load_blocking"]


def report(result: Result, out: Path | None) -> dict[str, object]:
    summary = result.summary()
    a = summary["all"]
    assert isinstance(a, dict)
    cpu = summary.get("server_cpu_utilization")
    print(f"{result.requests} requests, {result.errors} errors, {summary['requests_per_s']} req/s over "
          f"{summary['seconds']}s with {result.clients} clients; latency p50 {a.get('p50_ms')} ms, "
          f"p95 {a.get('p95_ms')} ms, p99 {a.get('p99_ms')} ms"
          + (f"; server CPU {cpu:.0%} of all cores" if cpu is not None else "")
          + f"; load average {os.getloadavg()[0]:.2f}")
    for sample in result.error_samples[:5]:
        print(f"  error: {sample}", file=sys.stderr)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        summary["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        out.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="a running server")
    target.add_argument("--index", type=Path, help="start a server on this index (loopback, free port)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=Path("test-artifacts/load.json"))
    args = parser.parse_args(argv)
    if args.url:
        result = run_load_blocking(args.url, args.clients, args.seconds)
    else:
        from tests.live_server import live_server

        with live_server(args.index) as server:
            result = run_load_blocking(server.url, args.clients, args.seconds, server_pid=server.process.pid)
    report(result, args.out)
    return 1 if result.errors or not result.requests else 0


if __name__ == "__main__":
    raise SystemExit(main())
