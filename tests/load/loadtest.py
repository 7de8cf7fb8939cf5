"""Bounded load test: N concurrent clients mixing /search and /ask for S seconds against a running server.

    python -m tests.load.loadtest --url http://127.0.0.1:8000 --clients 32 --seconds 30
    python -m tests.load.loadtest --index index ...     # starts its own server on a free loopback port

Prints p50/p95/p99 latency and requests/s, writes JSON (default test-artifacts/load.json); exit 1 on any error.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.measure import percentiles

QUESTIONS = ("متى عقدت الجولة الثامنة؟", "what did round four agree?", "مناطق خفض التصعيد",
             "who are the guarantor states?", "وقف إطلاق النار في سوريا", "Astana talks round six")


@dataclass
class Result:
    clients: int
    seconds: float
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: {"search": [], "ask": []})

    def summary(self) -> dict[str, object]:
        everything = [x for v in self.latencies_ms.values() for x in v]
        out: dict[str, object] = {"clients": self.clients, "seconds": round(self.seconds, 2),
                                  "requests": self.requests, "errors": self.errors,
                                  "requests_per_s": round(self.requests / self.seconds, 2) if self.seconds else 0.0,
                                  "error_samples": self.error_samples[:10], "all": percentiles(everything)}
        out.update({name: percentiles(v) for name, v in self.latencies_ms.items()})
        return out


async def _client(http: httpx.AsyncClient, worker: int, deadline: float, result: Result) -> None:
    for i in itertools.count(worker):
        if time.monotonic() >= deadline:
            return
        question = QUESTIONS[i % len(QUESTIONS)]
        kind = "ask" if i % 2 else "search"
        body = {"question": question, "k": 5} if kind == "ask" else {"query": question, "k": 5}
        started = time.perf_counter()
        try:
            response = await http.post(f"/{kind}", json=body)
            ok = response.status_code == 200 and bool(response.json().get("answer" if kind == "ask" else "results"))
            problem = "" if ok else f"{kind}: HTTP {response.status_code} {response.text[:200]}"
        except (httpx.HTTPError, ValueError) as exc:
            problem = f"{kind}: {type(exc).__name__}: {exc}"
        result.requests += 1
        if problem:
            result.errors += 1
            result.error_samples.append(problem)
        else:
            result.latencies_ms[kind].append((time.perf_counter() - started) * 1000)


async def run_load(url: str, clients: int, seconds: float) -> Result:
    result = Result(clients, seconds)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=httpx.Timeout(120.0)) as http:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(_client(http, w, deadline, result) for w in range(clients)))
        result.seconds = time.monotonic() - started  # includes draining the last requests
    return result


def run_load_blocking(url: str, clients: int, seconds: float) -> Result:
    """`run_load` on a fresh thread: callers may already have an event loop (pytest with playwright's sync API)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run_load(url, clients, seconds)).result()


def report(result: Result, out: Path | None) -> dict[str, object]:
    summary = result.summary()
    a = summary["all"]
    assert isinstance(a, dict)
    print(f"{result.requests} requests, {result.errors} errors, {summary['requests_per_s']} req/s over "
          f"{summary['seconds']}s with {result.clients} clients; latency p50 {a.get('p50_ms')} ms, "
          f"p95 {a.get('p95_ms')} ms, p99 {a.get('p99_ms')} ms")
    for sample in result.error_samples[:5]:
        print(f"  error: {sample}", file=sys.stderr)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
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
            result = run_load_blocking(server.url, args.clients, args.seconds)
    report(result, args.out)
    return 1 if result.errors or not result.requests else 0


if __name__ == "__main__":
    raise SystemExit(main())
