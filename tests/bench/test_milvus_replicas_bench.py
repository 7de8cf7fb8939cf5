"""The Milvus replica bench end to end at a tiny scale: real milvus-lite server, real `isnad serve` replicas over
the archive and over FAISS; the rows are well formed and the section renders (never timed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from isnad.bench.corpus import FALLBACK_QUERIES, sample_documents, vocabulary
from isnad.bench.milvus_replicas import NOTE, milvus_replica_rows
from isnad.bench.report import milvus_markdown
from isnad.bench.scale import build_scale_index, load_sample
from isnad.indexer.embed import E5Embedder
from isnad.indexer.pipeline import make_builder

pytestmark = pytest.mark.slow
pytest.importorskip("milvus_lite")


def _positive(node: dict[str, object], *keys: str) -> None:
    for key in keys:
        value = node[key]
        assert isinstance(value, int | float) and value > 0, (key, value)


def test_tiny_milvus_replica_rows(tmp_path: Path) -> None:
    docs = sample_documents()[:2]
    builder = make_builder(E5Embedder(), progress=False)
    builder.run(docs, tmp_path / "sample")
    build, corpus = build_scale_index(300, load_sample([tmp_path / "sample"]), vocabulary(docs),
                                      tmp_path / "faiss", builder)
    row = milvus_replica_rows(corpus, tmp_path / "faiss", tmp_path / "milvus", builder, list(FALLBACK_QUERIES),
                              requests=5)

    assert row["chunks"] == build["chunks"] >= 300 and row["note"] == NOTE
    milvus, faiss = row["milvus"], row["faiss"]
    write = milvus["write"]
    assert write["passages"] == row["chunks"] and write["documents"] == len(corpus.documents)
    assert write["index_type"] == "FLAT"  # under 100k rows
    _positive(write, "passages_s", "write_total_s", "passages_per_s", "passages_only_per_s")
    _positive(milvus, "server_rss_after_write_mb", "server_rss_after_searches_mb", "server_data_bytes")
    # the archive's folder holds a pointer, a manifest and the bridge's cache: no table
    assert milvus["folder_files"] == ["induced-vocab.npz", "manifest.json", "milvus.json"]
    for replica in (milvus["replica"], faiss["replica"]):
        _positive(replica, "cold_start_s", "rss_after_start_mb", "rss_after_searches_mb", "first_query_results")
        _positive(replica["search_sequential"], "p50_ms", "p99_ms")
        assert replica["search_sequential"]["n"] == 5 and replica["health"] == "ok"
    assert not (tmp_path / "milvus" / "milvus-data").exists()  # the server's data went with the run

    markdown = "\n".join(milvus_markdown({str(row["chunks"]): row}))
    assert "## Milvus replicas" in markdown and NOTE in markdown
    assert markdown.count(f"| {row['chunks']:,} |") == 2
