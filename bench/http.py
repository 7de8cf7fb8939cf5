"""The real service over real HTTP: cold start, /search and /ask latency (sequential and concurrent), RSS."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.measure import percentiles, rss_mb
from service.server_process import running_server


@contextmanager
def serve(index: Path, probe_query: str, timeout: float = 300.0) -> Iterator[tuple[str, int, float]]:
    """Start `isnad serve`; yield (url, pid, seconds from process start to the first answered /search)."""

    def answered(client: httpx.Client, url: str) -> bool:
        return client.get(f"{url}/search", params={"q": probe_query, "k": 5}).status_code == 200

    with running_server(index, probe=answered, timeout=timeout) as server:
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


def service_run(index: Path, queries: Sequence[str], requests: int = 100, clients: int = 8) -> dict[str, Any]:
    with serve(index, queries[0]) as (url, pid, cold):
        row: dict[str, Any] = {"cold_start_s": round(cold, 3), "rss_after_start_mb": rss_mb(pid)}
        row.update(latency(url, queries, requests, clients))
        row["rss_after_load_mb"] = rss_mb(pid)
        metrics = httpx.get(f"{url}/metrics", timeout=10.0)
        row["metrics_endpoint"] = metrics.status_code == 200 and "isnad_http_requests_total" in metrics.text
    return row
