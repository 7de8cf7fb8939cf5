"""Milvus replicas at scale: the archive written into a milvus-lite server, one `isnad serve` replica over it, and
one over the FAISS scale index of the same corpus (issue 29).

What each replica holds: the FAISS one loads the whole index (vectors, BM25, passages, documents) into its process,
so its RSS grows with the archive; the Milvus one holds a pointer and asks Milvus for every search, so its RSS
should not, and the milvus-lite server's RSS is where the data went. The write is timed without embedding: the
vectors are the scale corpus' (bench/scale.py: real for the sample chunks, synthetic for the rest).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx

from isnad.bench.http import NO_CACHE, _timed_posts
from isnad.bench.measure import folder_bytes, percentiles, rss_mb
from isnad.bench.milvus_server import milvus_server
from isnad.bench.scale import ADD_BATCH, ScaleCorpus
from isnad.bench.server_process import running_server
from isnad.indexer.embed import runtime_of
from isnad.indexer.index import IndexBuilder
from isnad.indexer.pipeline import embed_bridge_vocabulary
from isnad.indexer.text.induced import CACHE_FILE

NOTE = ("milvus-lite is not Milvus' production engine (a Python gRPC server with faiss/knowhere-lite inside); "
        "these figures do not size a cluster")
COLLECTION = "isnad_bench"
WARMUP = 10  # first searches pay for lazy imports and first-touch page faults; not timed


def available() -> str | None:
    """None when pymilvus and milvus-lite are installed, else why the run is skipped."""
    try:
        import milvus_lite  # noqa: F401
        import pymilvus  # noqa: F401
    except ImportError as exc:
        return f"Milvus replicas not measured: {exc.name} is not installed (pip install -e '.[milvus]')"
    return None


def write_archive(corpus: ScaleCorpus, folder: Path, uri: str, builder: IndexBuilder,
                  bridge_cache: Path | None = None) -> dict[str, Any]:
    """Write the corpus with the archive's own classes, as `isnad index --store milvus` stores it (minus embedding).

    `bridge_cache`: the FAISS scale index's induced-vocabulary cache; the same documents give the same words, so
    copying it lets the archive's cache be written without embedding them again (that is not part of the write).
    """
    from isnad.indexer.milvus_archive import RENEW_EVERY, MilvusArchive

    chunks, vectors = corpus.chunks, corpus.vectors
    t: dict[str, float] = {}
    started = time.perf_counter()
    archive = MilvusArchive.create(folder, uri, COLLECTION, builder.embedder.model_id, builder.embedder.dim,
                                   builder.params, runtime_of(builder.embedder))
    try:
        t["create_s"] = time.perf_counter() - started
        versions = {d.doc_id: d.content_hash for d in corpus.documents}
        started = time.perf_counter()
        for lo in range(0, len(chunks), ADD_BATCH):  # rows of each document's version, as `MilvusArchive.write`
            archive.store.add_versions(chunks[lo : lo + ADD_BATCH], vectors[lo : lo + ADD_BATCH], versions)
        t["passages_s"] = time.perf_counter() - started
        started = time.perf_counter()
        documents = [(d, d.content_hash) for d in corpus.documents]
        for lo in range(0, len(documents), RENEW_EVERY):  # the heads, in the batches `MilvusArchive.write` uses
            archive.documents.put(documents[lo : lo + RENEW_EVERY])
        archive.meta.put("rounds", sorted({r for c in chunks for r in c.rounds}))
        t["documents_s"] = time.perf_counter() - started
        started = time.perf_counter()
        archive.store._ensure_index_for_size()  # FLAT -> HNSW at >= 100k rows, as a real build does
        archive.store._client.flush(archive.collection)
        archive.store._client.flush(archive.documents.collection)
        t["index_and_flush_s"] = time.perf_counter() - started
        index_type, count = archive.store.index_type, archive.passage_count()
    finally:
        archive.close()
    if bridge_cache is not None and bridge_cache.is_file():
        shutil.copy2(bridge_cache, folder / CACHE_FILE)
    started = time.perf_counter()
    embed_bridge_vocabulary(folder, builder.embedder)  # reads every document back from Milvus; embeds what's new
    bridge = time.perf_counter() - started
    total = sum(t.values())
    return {"passages": count, "documents": len(corpus.documents), "index_type": index_type,
            **{k: round(v, 3) for k, v in t.items()}, "write_total_s": round(total, 3),
            "passages_per_s": round(count / total, 1),
            "passages_only_per_s": round(count / t["passages_s"], 1),
            "bridge_vocabulary_s": round(bridge, 3), "embedding": "excluded (vectors precomputed)"}


def replica_row(folder: Path, queries: Sequence[str], requests: int, milvus_uri: str | None = None,
                timeout: float = 600.0) -> dict[str, Any]:
    """One `isnad serve` replica (query cache off): RSS after start and after `requests` sequential /search, and
    their latency over HTTP."""
    launcher = ("-m", "isnad.cli.main", "serve", *(("--milvus-uri", milvus_uri) if milvus_uri else ()))
    search = [{"query": queries[i % len(queries)], "k": 5} for i in range(requests)]

    def answered(client: httpx.Client, url: str) -> bool:
        return client.get(f"{url}/search", params={"q": queries[0], "k": 5}).status_code == 200

    with running_server(folder, env=NO_CACHE, probe=answered, timeout=timeout, launcher=launcher) as server:
        pid = server.process.pid
        row: dict[str, Any] = {"cold_start_s": round(server.ready_seconds, 3), "rss_after_start_mb": rss_mb(pid)}
        _timed_posts(server.url, "/search", search[:WARMUP])
        row["search_sequential"] = percentiles(_timed_posts(server.url, "/search", search))
        row["rss_after_searches_mb"] = rss_mb(pid)
        row["searches"] = requests + WARMUP + 1  # the readiness probe too
        with httpx.Client(timeout=60.0) as client:
            found = client.post(f"{server.url}/search", json=search[0]).json()["results"]
            row["health"] = client.get(f"{server.url}/health").json().get("status")
        row["first_query_results"] = len(found)
    return row


def milvus_replica_rows(corpus: ScaleCorpus, faiss_folder: Path, work: Path, builder: IndexBuilder,
                        queries: Sequence[str], requests: int = 100) -> dict[str, Any]:
    """The archive's write, a Milvus replica and the milvus-lite server's RSS, then a FAISS replica on the FAISS
    scale index of the same corpus. `work` is emptied of what this made."""
    work.mkdir(parents=True, exist_ok=True)
    data, folder = work / "milvus-data", work / "archive"
    data.mkdir(exist_ok=True)
    try:
        with milvus_server(data) as server:
            rss_started = server.rss_mb()
            write = write_archive(corpus, folder, server.uri, builder, faiss_folder / CACHE_FILE)
            milvus: dict[str, Any] = {"write": write, "server_rss_started_mb": rss_started,
                                      "server_rss_after_write_mb": server.rss_mb()}
            milvus["replica"] = replica_row(folder, queries, requests, milvus_uri=server.uri)
            milvus["server_rss_after_searches_mb"] = server.rss_mb()
            milvus["server_data_bytes"] = folder_bytes(data)
            milvus["folder_files"] = sorted(p.name for p in folder.iterdir())
        faiss = {"replica": replica_row(faiss_folder, queries, requests)}
        return {"chunks": len(corpus.chunks), "milvus": milvus, "faiss": faiss, "note": NOTE}
    finally:
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
        with suppress(OSError):
            work.rmdir()  # when nothing else is in it


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Only this part of `isnad bench`: `python -m isnad.bench.milvus_replicas --scale 10000,100000 --work DIR`.
    The sample indexes (astana, XQuAD when ../shared has it) are built in DIR once and reused; prints the
    section's Markdown and writes DIR/milvus_replicas.json."""
    import argparse
    import json

    from isnad.bench.corpus import queries, sample_documents, vocabulary, xquad_documents
    from isnad.bench.report import milvus_markdown
    from isnad.bench.scale import build_scale_index, load_sample
    from isnad.indexer.embed import E5Embedder
    from isnad.indexer.index import MANIFEST_FILE
    from isnad.indexer.pipeline import make_builder

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--scale", default="10000")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args(argv)
    builder = make_builder(E5Embedder(), progress=False)
    corpora = {"astana": sample_documents(), "xquad": xquad_documents()}
    built = []
    for name, docs in corpora.items():
        if docs:
            if not (args.work / name / MANIFEST_FILE).is_file():
                builder.run(docs, args.work / name)
            built.append(args.work / name)
    sample, qtexts = load_sample(built), queries()
    words = vocabulary([d for docs in corpora.values() if docs for d in docs])
    out: dict[str, Any] = {}
    for n in sorted(int(s) for s in args.scale.split(",") if s.strip()):
        folder = args.work / f"scale-{n}"
        build, corpus = build_scale_index(n, sample, words, folder, builder)
        out[str(n)] = {**milvus_replica_rows(corpus, folder, args.work / f"milvus-{n}", builder, qtexts,
                                             args.requests), "faiss_build": build}
        shutil.rmtree(folder, ignore_errors=True)
        (args.work / "milvus_replicas.json").write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n",
                                                        encoding="utf-8")
    print("\n".join(milvus_markdown(out)))
    return out


if __name__ == "__main__":
    main()
