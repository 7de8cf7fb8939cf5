"""Measure FaissStore vs MilvusStore (milvus-lite) on synthetic vectors.

    .venv/bin/python scripts/milvus_vs_faiss.py --sizes 10000 100000 [--json out.json]

Vectors are random unit vectors (384 dims, like multilingual-e5-small); chunk metadata cycles through 5 docs x
rounds 1..20 x 365 dates so filters select ~5%. Figures feed docs/scaling.md. (BM25 stays in
indexer/stores/lexical.py for every store: Milvus' BM25 was measured here once and then removed.)
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from isnad.indexer.stores import FaissStore, VectorStore
from isnad.indexer.stores.milvus_store import MilvusStore
from isnad.indexer.types import Chunk, SearchFilters

DIM = 384
QUERIES = 50


def chunks(n: int) -> list[Chunk]:
    return [Chunk(f"doc{i % 5000}", f"doc{i % 5000}#{i}", 0, 1, "x", None,
                  f"2018-{(i % 12) + 1:02d}-{(i % 28) + 1:02d}", ((i % 20) + 1,)) for i in range(n)]


def unit(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_search(store: VectorStore, queries: np.ndarray, filters: SearchFilters | None) -> float:
    started = time.perf_counter()
    for q in queries:
        store.search(q[None, :], 10, filters)
    return (time.perf_counter() - started) / len(queries) * 1000


def bench_vectors(n: int, workdir: Path) -> dict[str, object]:
    cs, vs, qs = chunks(n), unit(n, 1), unit(QUERIES, 2)
    out: dict[str, object] = {"n": n}
    makers: list[tuple[str, Callable[[], VectorStore]]] = [
        ("faiss", lambda: FaissStore(DIM)), ("milvus", lambda: MilvusStore(DIM, str(workdir / f"m{n}.db"), "bench"))]
    for name, make in makers:
        rss0 = rss_mb()
        store = make()
        started = time.perf_counter()
        for i in range(0, n, 2000):
            store.add(cs[i : i + 2000], vs[i : i + 2000])
        add_s = time.perf_counter() - started
        started = time.perf_counter()
        store.save(workdir / f"{name}-{n}")  # Milvus: switches FLAT -> HNSW at 100k, flushes
        save_s = time.perf_counter() - started
        store.search(qs[:1], 10)  # warm
        r = {"add_s": round(add_s, 2), "add_per_1k_ms": round(add_s / n * 1e6, 1), "save_s": round(save_s, 2),
             "index": store.index_type,
             "search_ms": round(timed_search(store, qs, None), 2),
             "search_round_ms": round(timed_search(store, qs, SearchFilters(round=7)), 2),
             "search_doc_ms": round(timed_search(store, qs, SearchFilters(doc_id="doc42")), 2),
             "peak_rss_growth_mb": round(rss_mb() - rss0, 0)}
        if name == "faiss":
            exact = [[h.key for h in row] for row in store.search(qs, 10)]
        else:
            got = [[h.key for h in row] for row in store.search(qs, 10)]
            r["recall_at_10_vs_faiss"] = round(float(np.mean([len(set(a) & set(b)) / 10
                                                              for a, b in zip(exact, got, strict=True)])), 3)
        store.close()
        out[name] = r
        del store
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results: dict[str, list[dict[str, object]]] = {"vectors": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            row = bench_vectors(n, Path(tmp))
            results["vectors"].append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
