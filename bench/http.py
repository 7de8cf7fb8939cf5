"""The real service over real HTTP: cold start, /search and /ask latency (sequential and concurrent), RSS."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from isnad.bench.load import QuestionCursor, distinct_questions, run_load_blocking
from isnad.bench.measure import percentiles, rss_mb
from isnad.bench.server_process import running_server

LOAD_CLIENTS = (1, 8, 32)
NO_CACHE = {"ISNAD_QUERY_CACHE_SIZE": "0"}  # latency and load rows measure real work, never a cache hit


@contextmanager
def serve(index: Path, probe_query: str, timeout: float = 300.0,
          env: dict[str, str] | None = None) -> Iterator[tuple[str, int, float]]:
    """Start `isnad serve`; yield (url, pid, seconds from process start to the first answered /search)."""

    def answered(client: httpx.Client, url: str) -> bool:
        return client.get(f"{url}/search", params={"q": probe_query, "k": 5}).status_code == 200

    with running_server(index, env=env, probe=answered, timeout=timeout) as server:
        yield server.url, server.process.pid, server.ready_seconds


def _timed_posts(url: str, path: str, bodies: Sequence[dict[str, Any]]) -> list[float]:
    out = []
    with httpx.Client(timeout=60.0) as client:
        for body in bodies:
            started = time.perf_counter()
            response = client.post(f"{url}{path}", json=body)
            out.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return out


def latency(url: str, queries: Sequence[str], requests: int = 100, clients: int = 8) -> dict[str, Any]:
    """p50/p95/p99 of POST /search and /ask, one client in sequence, then `clients` at once."""
    search = [{"query": queries[i % len(queries)], "k": 5} for i in range(requests)]
    filtered = [{**b, "filters": {"round": 4}} for b in search[: max(5, requests // 2)]]
    ask = [{"question": queries[i % len(queries)], "k": 5} for i in range(requests)]
    # Warm-up: the first requests of each endpoint pay for lazy imports and first-touch page faults.
    _timed_posts(url, "/search", search[: min(20, requests)])
    _timed_posts(url, "/ask", ask[: min(10, requests)])
    out: dict[str, Any] = {
        "search_sequential": percentiles(_timed_posts(url, "/search", search)),
        "ask_sequential": percentiles(_timed_posts(url, "/ask", ask)),
        # A round filter: BM25's allowed-rows mask and faiss's ID selector over the whole index
        "search_filtered_sequential": percentiles(_timed_posts(url, "/search", filtered)),
    }
    for path, bodies in (("/search", search), ("/ask", ask)):
        shares = [bodies[i::clients] for i in range(clients)]
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(lambda b, p=path: _timed_posts(url, p, b), shares))
        wall = time.perf_counter() - started
        stats = percentiles([ms for r in results for ms in r])
        stats["throughput_rps"] = round(len(bodies) / wall, 1)
        out[f"{path.strip('/')}_concurrent_{clients}"] = stats
    return out


def load_rows(url: str, pid: int, clients: Sequence[int], seconds: float) -> dict[str, Any]:
    """req/s, latency and server CPU at each client count; one shared question list, so no text repeats."""
    cursor = QuestionCursor(distinct_questions())
    rows: dict[str, Any] = {}
    for n in clients:
        result = run_load_blocking(url, n, seconds, cursor, pid)
        s = result.summary()
        every = s["all"]
        assert isinstance(every, dict)
        rows[str(n)] = {"requests_per_s": s["requests_per_s"], "requests": s["requests"], "errors": s["errors"],
                        "p50_ms": every.get("p50_ms"), "p95_ms": every.get("p95_ms"),
                        "p99_ms": every.get("p99_ms"), "server_cpu_utilization": s.get("server_cpu_utilization"),
                        "distinct_questions": s["distinct_questions"],
                        "load_average": round(os.getloadavg()[0], 2)}
    return rows


def _cache_lookups(metrics: str) -> tuple[float, float]:
    """(hits, misses) of the query cache so far, from /metrics."""
    totals = {ln.split()[0]: float(ln.split()[-1]) for ln in metrics.splitlines()
              if ln.startswith(("isnad_query_cache_hits_total ", "isnad_query_cache_misses_total "))}
    return totals.get("isnad_query_cache_hits_total", 0.0), totals.get("isnad_query_cache_misses_total", 0.0)


def repeated_query(url: str, query: str, repeats: int = 50) -> dict[str, Any]:
    """A query asked again and again on a server with the query cache on: server-side took_ms and HTTP time.

    `hit_ratio` counts the repeats only (the first ask, and whatever else the server embedded before, such as
    the bridge's English words, are left out), so it says whether a repeat ever reaches the engine.
    """
    body = {"query": query, "k": 5}
    with httpx.Client(timeout=60.0) as client:
        first = client.post(f"{url}/search", json=body).json()["took_ms"]
        hits_before, misses_before = _cache_lookups(client.get(f"{url}/metrics").text)
        took, http = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.post(f"{url}/search", json=body)
            http.append((time.perf_counter() - started) * 1000)
            took.append(response.json()["took_ms"])
        hits, misses = _cache_lookups(client.get(f"{url}/metrics").text)
    lookups = (hits - hits_before) + (misses - misses_before)
    ratio = (hits - hits_before) / lookups if lookups else None
    return {"first_took_ms": first, "repeat_took_ms": percentiles(took), "repeat_http_ms": percentiles(http),
            "hit_ratio": ratio}


def service_run(index: Path, queries: Sequence[str], requests: int = 100, clients: int = 8,
                load_clients: Sequence[int] = LOAD_CLIENTS, load_seconds: float = 10.0) -> dict[str, Any]:
    with serve(index, queries[0], env=NO_CACHE) as (url, pid, cold):
        row: dict[str, Any] = {"cold_start_s": round(cold, 3), "rss_after_start_mb": rss_mb(pid)}
        row.update(latency(url, queries, requests, clients))
        if load_clients and load_seconds > 0:
            row["load"] = load_rows(url, pid, load_clients, load_seconds)
        row["rss_after_load_mb"] = rss_mb(pid)
        metrics = httpx.get(f"{url}/metrics", timeout=10.0)
        row["metrics_endpoint"] = metrics.status_code == 200 and "isnad_http_requests_total" in metrics.text
    with serve(index, queries[0]) as (url, _pid, _cold):
        row["cache"] = repeated_query(url, queries[1 % len(queries)])
    return row


def reader_cost(index: Path, queries: Sequence[str], requests: int = 60) -> dict[str, Any]:
    """/search and /ask p50 in one run, with the reader and with the fallback, and the RSS the reader adds
    (issue 19). Query cache off: every request embeds its question; questions repeat across requests only."""
    rows: dict[str, Any] = {}
    search = [{"query": queries[i % len(queries)], "k": 5} for i in range(requests)]
    ask = [{"question": queries[i % len(queries)], "k": 5} for i in range(requests)]
    for name, extra in (("reader", {}), ("fallback", {"ISNAD_USE_READER": "false"})):
        with serve(index, queries[0], env={**NO_CACHE, **extra}) as (url, pid, cold):
            _timed_posts(url, "/search", search[:10])
            _timed_posts(url, "/ask", ask[:10])
            rows[name] = {"cold_start_s": round(cold, 3), "search_sequential": percentiles(_timed_posts(url, "/search",
                                                                                                        search)),
                          "ask_sequential": percentiles(_timed_posts(url, "/ask", ask)), "rss_mb": rss_mb(pid),
                          "reader": httpx.get(f"{url}/health", timeout=10.0).json().get("reader")}
    with_reader, fallback = rows["reader"], rows["fallback"]
    rows["ratios"] = {
        "ask_over_search_p50": round(with_reader["ask_sequential"]["p50_ms"]
                                     / with_reader["search_sequential"]["p50_ms"], 2),
        "fallback_ask_over_search_p50": round(fallback["ask_sequential"]["p50_ms"]
                                              / fallback["search_sequential"]["p50_ms"], 2),
        "rss_added_mb": round(with_reader["rss_mb"] - fallback["rss_mb"], 1),
    }
    return rows
