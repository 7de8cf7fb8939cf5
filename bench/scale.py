"""Scale run: an index of N chunks (real sample + generated rest), its build, memory, load and search costs.

Which is which: the sample chunks (astana + XQuAD) carry real e5 embeddings of real text; every other chunk
is generated Arabic-like text (real corpus words recombined) with a synthetic unit vector shaped like the
real ones (bench/corpus.py). Query vectors are real e5 embeddings of real questions.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from isnad.bench.corpus import ArabicLikeGenerator, synthetic_vectors
from isnad.bench.measure import folder_bytes, percentiles, rss_mb, time_each
from isnad.indexer.index import FORMAT_VERSION, Index, IndexBuilder, Manifest, write_index
from isnad.indexer.pipeline import embed_bridge_vocabulary
from isnad.indexer.stores.faiss_store import APPROX_THRESHOLD, FaissStore, build_ivf, store_nlist
from isnad.indexer.stores.lexical import LexicalIndex
from isnad.indexer.text.arabic import tokenize
from isnad.indexer.text.rounds import tag_rounds
from isnad.indexer.types import Chunk, Document, passage_text

ADD_BATCH = 20_000  # the store grows batch by batch, so the flat -> IVF switch happens as in a real build


@dataclass
class Sample:
    """Real documents and chunks with their real vectors (from the throughput indexes)."""

    documents: list[Document]
    chunks: list[Chunk]
    vectors: np.ndarray


def load_sample(folders: Sequence[Path]) -> Sample:
    documents: list[Document] = []
    chunks: list[Chunk] = []
    vectors = []
    for folder in folders:
        index = Index.load(folder)
        documents += list(index.documents.values())
        chunks += index.chunks
        vectors.append(index.store.vectors_for([c.key for c in index.chunks]))  # type: ignore[attr-defined]
    return Sample(documents, chunks, np.concatenate(vectors))


@dataclass
class ScaleCorpus:
    """What a scale index was built from: the Milvus replica run (bench/milvus_replicas.py) writes the same."""

    documents: list[Document]
    chunks: list[Chunk]
    vectors: np.ndarray


def build_scale_index(n: int, sample: Sample, words: Sequence[str], folder: Path,
                      builder: IndexBuilder) -> tuple[dict[str, Any], ScaleCorpus]:
    """Write an index of ~n chunks with the service's own writer; returns timings and the corpus written."""
    t: dict[str, float] = {}
    started = time.perf_counter()
    gen, chunker = ArabicLikeGenerator(words, seed=n), builder.chunker
    documents, chunks = list(sample.documents), list(sample.chunks)
    i = 0
    while len(chunks) < n:
        raw = gen.document(f"syn{i:07d}")
        doc = Document(raw.doc_id, raw.text, raw.title, raw.published, raw.source)  # generated text is clean
        documents.append(doc)
        chunks.extend(tag_rounds(chunker.run(doc)))  # rounds tagged per document, as the builder does
        i += 1
    t["generate_and_chunk_s"] = time.perf_counter() - started

    started = time.perf_counter()
    vectors = np.concatenate([sample.vectors, synthetic_vectors(sample.vectors, len(chunks) - len(sample.chunks))])
    t["synthetic_vectors_s"] = time.perf_counter() - started

    rss0 = rss_mb()
    started = time.perf_counter()
    store = FaissStore(vectors.shape[1])
    for lo in range(0, len(chunks), ADD_BATCH):
        store.add(chunks[lo : lo + ADD_BATCH], vectors[lo : lo + ADD_BATCH])
    t["vector_store_build_s"] = time.perf_counter() - started

    started = time.perf_counter()
    gc.collect()
    lex_rss0 = rss_mb()
    lexical = LexicalIndex.build([passage_text(c) for c in chunks])
    t["lexical_build_s"] = time.perf_counter() - started
    lexical_rss = rss_mb() - lex_rss0

    started = time.perf_counter()
    hashes = {d.doc_id: d.content_hash for d in documents}
    manifest = Manifest(FORMAT_VERSION, builder.embedder.model_id, builder.embedder.dim, builder.params,
                        len(documents), len(chunks), data="", created=time.time())
    write_index(folder, manifest, documents, hashes, chunks, store, lexical)
    t["write_s"] = time.perf_counter() - started

    started = time.perf_counter()
    embed_bridge_vocabulary(folder, builder.embedder)  # as `isnad index` does: the service finds it cached
    t["bridge_vocabulary_s"] = time.perf_counter() - started
    data = next(p for p in folder.iterdir() if p.is_dir() and p.name.startswith("data-"))
    total = folder_bytes(data)
    row: dict[str, Any] = {
        "chunks": len(chunks), "documents": len(documents),
        "real_chunks": len(sample.chunks), "synthetic_chunks": len(chunks) - len(sample.chunks),
        "index_type": store.index_type,
        **{k: round(v, 3) for k, v in t.items()},
        "build_total_s": round(sum(t.values()), 3),
        "build_process_rss_growth_mb": round(rss_mb() - rss0, 1),
        "lexical_build_rss_growth_mb": round(lexical_rss, 1),
        "index_bytes": total, "index_bytes_per_chunk": round(total / len(chunks), 1),
        "vector_bytes_per_chunk": round((data / "index.faiss").stat().st_size / len(chunks), 1),
        "lexical_bytes": folder_bytes(data / "bm25") if (data / "bm25").is_dir() else 0,
    }
    del store, lexical
    gc.collect()
    return row, ScaleCorpus(documents, chunks, vectors)


def load_costs(folder: Path) -> dict[str, Any]:
    """In-process load time of the whole index and of its parts (what cold start spends on data)."""
    gc.collect()
    rss0 = rss_mb()
    started = time.perf_counter()
    index = Index.load(folder)
    total = time.perf_counter() - started
    data = folder / index.manifest.data
    started = time.perf_counter()
    FaissStore.load(data)
    store_s = time.perf_counter() - started
    started = time.perf_counter()
    LexicalIndex.load(data)
    lexical_s = time.perf_counter() - started
    row = {"index_load_s": round(total, 3), "vector_store_load_s": round(store_s, 3),
           "lexical_load_s": round(lexical_s, 3),
           "chunks_and_documents_load_s": round(max(total - store_s - lexical_s, 0.0), 3),
           "loaded_index_rss_mb": round(rss_mb() - rss0, 1)}
    del index
    gc.collect()
    return row


def search_costs(vectors: np.ndarray, queries: np.ndarray, query_texts: Sequence[str], folder: Path,
                 k: int = 10) -> dict[str, Any]:
    """Exact (flat) vs approximate (IVF-SQ8) search on the same vectors, recall@k, and BM25 query cost."""
    n, dim = vectors.shape
    ids = np.arange(n, dtype=np.int64)
    exact = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    exact.add_with_ids(vectors, ids)
    truth = exact.search(queries, k)[1]
    exact_ms = time_each(lambda q: exact.search(q[None, :], k), list(queries))

    started = time.perf_counter()
    # The lists the service's store would have: it converts at APPROX_THRESHOLD vectors (indexer/stores/faiss_store.py)
    ivf = build_ivf(vectors, ids, dim, nlist=store_nlist(min(n, APPROX_THRESHOLD)))
    ivf_build = time.perf_counter() - started
    approx = ivf.search(queries, k)[1]
    approx_ms = time_each(lambda q: ivf.search(q[None, :], k), list(queries))
    recall = float(np.mean([len(set(a) & set(t)) / k for a, t in zip(approx, truth, strict=True)]))
    row: dict[str, Any] = {
        "exact_flat": percentiles(exact_ms),
        "approx_ivf_sq8": {**percentiles(approx_ms), "nlist": int(ivf.nlist), "nprobe": int(ivf.nprobe),
                           "build_s": round(ivf_build, 3), f"recall_at_{k}_vs_exact": round(recall, 4)},
    }

    lexical = LexicalIndex.load(folder / Manifest.read(folder).data)
    terms = [tokenize(q) for q in query_texts]
    row["lexical_bm25"] = percentiles(time_each(lambda t: lexical.search_terms(t, 100), terms))
    return row
