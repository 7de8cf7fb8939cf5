"""The benchmark end to end on a tiny corpus and a tiny scale: the report is well formed (never timed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isnad.bench.corpus import ArabicLikeGenerator, sample_documents, synthetic_vectors, vocabulary
from isnad.bench.report import TARGETS
from isnad.bench.run import run_bench

pytestmark = pytest.mark.slow


def _positive(node: dict[str, object], *keys: str) -> None:
    for key in keys:
        value = node[key]
        assert isinstance(value, int | float) and value > 0, (key, value)


def test_tiny_bench_writes_a_well_formed_report(tmp_path: Path) -> None:
    docs = sample_documents()[:2]
    report = run_bench([2000], tmp_path / "out", corpora={"astana": docs, "xquad": None}, requests=6, clients=2,
                       st_model=None, load_seconds=1, log=lambda _: None)
    data = json.loads((tmp_path / "out" / "latest.json").read_text(encoding="utf-8"))
    assert data["scale"].keys() == report["scale"].keys() == {"2000"}
    markdown = (tmp_path / "out" / "latest.md").read_text(encoding="utf-8")
    assert "## Targets" in markdown and "GPU: not measured in this run." in markdown

    t = data["throughput"]["astana"]
    _positive(t, "documents", "chunks", "tokens", "pipeline_docs_per_s", "pipeline_chunks_per_s",
              "pipeline_tokens_per_s", "raw_engine_tokens_per_s", "pipeline_over_raw")
    assert data["throughput"]["xquad"]["skipped"]
    assert t["reindex_unchanged"]["embed_calls"] == 0 and t["reindex_unchanged"]["seconds"] > 0

    s = data["scale"]["2000"]
    assert s["build"]["chunks"] >= 2000 and s["build"]["synthetic_chunks"] > 0
    _positive(s["build"], "build_total_s", "index_bytes_per_chunk", "vector_bytes_per_chunk", "lexical_build_s")
    _positive(s["load"], "index_load_s")
    _positive(s["search"]["exact_flat"], "p50_ms", "p95_ms", "p99_ms")
    assert 0 < s["search"]["approx_ivf_sq8"]["recall_at_10_vs_exact"] <= 1
    _positive(s["search"]["lexical_bm25"], "p50_ms")
    assert s["reindex_unchanged"]["embed_calls"] == 0

    for service in (data["service_sample"], s["service"]):
        _positive(service, "cold_start_s", "rss_after_load_mb")
        for key in ("search_sequential", "ask_sequential", "search_concurrent_2", "ask_concurrent_2"):
            _positive(service[key], "p50_ms", "p95_ms", "p99_ms")
        assert service["metrics_endpoint"] is True
    assert len(data["targets"]) == len(TARGETS)
    reader = data["reader"]  # /ask with the trained reader and with the fallback, same index
    assert reader["reader"]["reader"].startswith("onnxruntime-int8-reader")
    assert reader["fallback"]["reader"].startswith("off")
    _positive(reader["reader"]["ask_sequential"], "p50_ms")
    _positive(reader["ratios"], "ask_over_search_p50")
    assert "## The reader on /ask" in markdown
    collections = data["collections"]  # one server with 1 and 3 collections, and two servers (issue 30)
    _positive(collections["ratios"], "three_over_one_p50", "one_of_three_over_single_p50", "rss_three_over_two_servers")
    assert collections["three_collections"]["search_all"]["n"] == 10 and "## Collections" in markdown

    # Concurrent-load rows on the sample index (only there and at 100k), each with distinct questions.
    load = data["service_sample"]["load"]
    assert set(load) == {"1", "8", "32"} and "load" not in s["service"]
    for row in load.values():
        assert row["errors"] == 0 and row["distinct_questions"] is True
        _positive(row, "requests_per_s", "p50_ms", "p99_ms", "server_cpu_utilization")
    assert "## Concurrent load" in markdown and (tmp_path / "out" / "throughput_vs_clients.png").stat().st_size > 0
    cache = data["service_sample"]["cache"]
    assert cache["hit_ratio"] == 1.0 and cache["repeat_took_ms"]["n"] == 50  # no repeat reaches the engine
    parallel = t["parallel"]
    assert parallel["workers"] >= 1 and parallel["chunks_per_s"] > 0


def test_generated_corpus_and_vectors_look_like_the_real_ones() -> None:
    docs = sample_documents()
    doc = ArabicLikeGenerator(vocabulary(docs), seed=1).document("syn0000001")
    assert doc.doc_id == "syn0000001" and doc.published and "\n\n" in doc.text
    real = synthetic_vectors(__import__("numpy").random.default_rng(0).normal(size=(20, 8)).astype("float32"), 5)
    assert real.shape == (5, 8)
    assert abs(float((real**2).sum(axis=1).mean()) - 1.0) < 1e-5
