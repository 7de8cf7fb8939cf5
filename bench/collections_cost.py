"""What collections cost (issue 30): RSS of one server with 1 and 3 collections against two separate servers,
and /search p50 on one collection and across three, all over real HTTP with the query cache off.

The three collections are copies of one index (each loaded on its own, as separate archives are), so every
server holds the same kind of data and the figures compare.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from isnad.bench.http import NO_CACHE, _timed_posts, serve
from isnad.bench.measure import percentiles, rss_mb

NAMES = ("public", "wire", "probe")


ROUNDS = 5  # the three kinds of request take turns, so a load that drifts (a busy machine) hits each alike


def collections_cost(index: Path, queries: Sequence[str], requests: int = 60) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="isnad-bench-collections-"))
    try:
        folders = {name: Path(shutil.copytree(index, work / name)) for name in NAMES}
        bodies = [{"query": queries[i % len(queries)], "k": 5} for i in range(requests)]
        spec = ",".join(f"{n}={p}" for n, p in folders.items())
        row: dict[str, Any] = {}
        with serve(folders["public"], queries[0], env=NO_CACHE) as (url1, pid1, _), \
                serve(folders["public"], queries[0], env={**NO_CACHE, "ISNAD_COLLECTIONS": spec}) as (url3, pid3, _):
            one = [{**b, "collections": ["public"]} for b in bodies]
            kinds = {"single": (url1, bodies), "one_of_three": (url3, one), "all_three": (url3, bodies)}
            times: dict[str, list[float]] = {kind: [] for kind in kinds}
            for url, sent in kinds.values():  # warm-up: lazy imports, first page faults
                _timed_posts(url, "/search", sent[:10])
            for r in range(ROUNDS):
                for kind, (url, sent) in kinds.items():
                    times[kind] += _timed_posts(url, "/search", sent[r::ROUNDS])
            row["one_collection"] = {"search": percentiles(times["single"]), "rss_mb": rss_mb(pid1)}
            row["three_collections"] = {"search_one": percentiles(times["one_of_three"]),
                                        "search_all": percentiles(times["all_three"]), "rss_mb": rss_mb(pid3)}
        with ExitStack() as stack:  # two archives the old way: a server each, both up at once
            servers = [stack.enter_context(serve(folders[n], queries[0], env=NO_CACHE)) for n in NAMES[:2]]
            for url, _pid, _ in servers:
                _timed_posts(url, "/search", bodies[:10])
            row["two_servers"] = {"rss_mb": round(sum(rss_mb(pid) for _, pid, _ in servers), 1)}
        one, three = row["one_collection"], row["three_collections"]
        row["ratios"] = {
            "three_over_one_p50": round(three["search_all"]["p50_ms"] / three["search_one"]["p50_ms"], 2),
            "one_of_three_over_single_p50": round(three["search_one"]["p50_ms"] / one["search"]["p50_ms"], 2),
            "rss_three_over_two_servers": round(three["rss_mb"] / row["two_servers"]["rss_mb"], 2),
            "rss_added_per_collection_mb": round((three["rss_mb"] - one["rss_mb"]) / (len(NAMES) - 1), 1),
        }
        return row
    finally:
        shutil.rmtree(work, ignore_errors=True)

