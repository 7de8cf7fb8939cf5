"""The evaluation runner: index each benchmark's corpus (cached), run every ablation, write the reports.

`make eval` / `isnad eval` run the seed dev set and xquad_en2ar; `--heldout` adds the report-only sets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from isnad.eval.cache import CACHE, DATA, RESULTS, ROOT, SHARED, MemoQueryEmbedder, cache_folder
from isnad.eval.calibrate import cached_embedder
from isnad.eval.datasets import Benchmark, load_beir, load_seed, load_squad
from isnad.eval.extraction import WEB_PAGES, extraction_summary, measure_extraction
from isnad.eval.metrics import AnswerOutcome, EvalResult, RetrievedPassage, evaluate_answers, evaluate_retrieval
from isnad.eval.protocols import protocols_markdown, run_protocols
from isnad.eval.reader_protocols import reader_markdown, run_reader_protocols
from isnad.eval.report import write_report
from isnad.indexer.embed import E5Embedder, Embedder, make_embedder
from isnad.indexer.pipeline import make_builder
from isnad.indexer.stores import store_factory
from isnad.indexer.text.induced import english_content_words
from isnad.indexer.text.query import analyze
from isnad.indexer.text.script import query_language
from isnad.service.ask.answerer import Answerer
from isnad.service.ask.judge import judge_beside
from isnad.service.ask.reader import Reader
from isnad.service.search import ABLATIONS, Searcher
from isnad.service.state import open_searcher

RETRIEVE_K = 30  # enough chunks to cover 10 distinct documents on document-level sets


@dataclass(frozen=True)
class Suite:
    name: str
    benchmarks: tuple[Benchmark, ...]  # same documents, one per question language


def default_suites(heldout: bool = False) -> list[Suite]:
    suites = [Suite("seed_qa.dev", (load_seed(DATA / "seed_qa.dev.jsonl", ROOT / "data" / "astana"),))]
    xquad = DATA / "xquad_en2ar"
    pair = (load_beir(xquad, "en", "xquad_en2ar/en"), load_beir(xquad, "ar", "xquad_en2ar/ar"))
    suites.append(Suite("xquad_en2ar", pair))
    if heldout:
        for name in ("arcd-test.json", "tydiqa-goldp-dev-arabic.json"):
            path = SHARED / "heldout" / name
            if path.exists():
                suites.append(Suite(path.stem, (load_squad(path, name=path.stem),)))
            else:
                print(f"heldout set {path} not found; skipped")
    return suites


def run_suite(suite: Suite, embedder: Embedder, configs: Sequence[str], answers: bool,
              cache: Path = CACHE, reader: Reader | None = None, store: str = "faiss") -> dict[str, EvalResult]:
    """`store`: "milvus" indexes into a Milvus archive (a milvus-lite file beside the FAISS cache) and searches it."""
    folder = cache_folder(suite.benchmarks[0], embedder, cache)
    if store != "faiss":
        folder = folder.with_name(f"{folder.name}-{store}")
    started = time.perf_counter()
    report = make_builder(embedder, progress=True, store_factory=store_factory(store, folder)).run(
        suite.benchmarks[0].documents, folder)
    print(f"[{suite.name}] index: {report.chunks} chunks, embedded {report.embedded_chunks} "
          f"in {time.perf_counter() - started:.1f}s ({folder})")
    searcher = open_searcher(folder, embedder)
    index_s = time.perf_counter() - started
    started = time.perf_counter()
    searcher.prepare_bridges()  # the bridge's share of indexing: the archive's vocabulary, embedded once
    print(f"[{suite.name}] bridge: {time.perf_counter() - started:.1f}s (index {index_s:.1f}s)")
    questions = [q.text for b in suite.benchmarks for q in b.queries]
    if isinstance(embedder, MemoQueryEmbedder):  # questions and their English words (the bridge's)
        words = [w for q in questions if query_language(q) == "en" for w in english_content_words(q)]
        embedder.warm(questions + list(dict.fromkeys(words)), cache / "query-vectors.npz")
    searcher.prepare_bridges(questions)  # their English words, batched (the service embeds per query)
    results: dict[str, EvalResult] = {}
    for config_name in configs:
        ablation = searcher.with_config(ABLATIONS[config_name])
        retrieve = retriever(ablation)
        for bench in suite.benchmarks:
            key = f"{bench.name} | {config_name}{_model_tag(embedder)}"
            results[key] = evaluate_retrieval(bench, retrieve)
            if "en" in bench.langs:
                results[key] = _with_coverage(results[key], bench, ablation)
            print(f"  {key}: " + _summary(results[key]))
    if answers and any(q.answers or q.unanswerable for b in suite.benchmarks for q in b.queries):
        ask = _asker(Answerer(searcher, reader=reader, judge=judge_beside(reader)))
        for bench in suite.benchmarks:
            key = f"{bench.name} | answers{_model_tag(embedder)}"
            results[key] = evaluate_answers(bench, ask)
            print(f"  {key}: " + _summary(results[key]))
    return results


def _with_coverage(result: EvalResult, bench: Benchmark, searcher: Searcher) -> EvalResult:
    """Add the mean share of an English question's content words that the bridge translated."""
    cfg = searcher.config
    lexicon, bridges = (searcher.lexicon if cfg.lexicon else None), searcher.bridges()
    shares = [analyze(q.text, lexicon, bridges).translated_share for q in bench.answerable if q.lang == "en"]
    return replace(result, metrics={**result.metrics, "bridge_coverage": float(np.mean(shares)) if shares else 0.0})


def _model_tag(embedder: Embedder) -> str:
    """Configurations of a non-default model are named apart, so the history compares like with like."""
    return "" if embedder.model_id == E5Embedder.model_id else f" @{embedder.model_id}"


def retriever(searcher: Searcher) -> Callable[[str], list[RetrievedPassage]]:
    def retrieve(q: str) -> list[RetrievedPassage]:
        return [RetrievedPassage(r.chunk.doc_id, r.chunk.text) for r in searcher.search(q, RETRIEVE_K).results]

    return retrieve


def _asker(answerer: Answerer) -> Callable[[str], AnswerOutcome]:
    def ask(q: str) -> AnswerOutcome:
        a = answerer.ask(q)
        return AnswerOutcome(a.text, a.abstained, tuple(c.chunk.doc_id for c in a.citations))

    return ask


def _summary(result: EvalResult) -> str:
    keys = ("recall@1", "recall@5", "mrr@10", "ndcg@10", "answer_accuracy", "abstention_recall", "false_abstentions")
    return ", ".join(f"{k}={result.metrics[k]:.3f}" for k in keys if k in result.metrics)


def default_reader(use: bool = True) -> Reader | None:
    """The shipped reader, or None (the service's fallback) when it is off, missing or damaged."""
    if not use:
        return None
    from isnad.indexer.reader.runtime import OnnxReader

    try:
        return OnnxReader()
    except Exception as exc:  # the evaluation then measures the fallback, and says so
        print(f"reader not loaded ({exc}): answers come from the fallback (sentence rules)")
        return None


def run(configs: Sequence[str] | None = None, heldout: bool = False, answers: bool = True,
        out_dir: Path = RESULTS / "latest", suites: Sequence[str] | None = None,
        embedder: Embedder | None = None, use_reader: bool = True, store: str = "faiss") -> dict[str, EvalResult]:
    """Every chosen suite and configuration with `embedder` (default: the default model); reports to `out_dir`."""
    inner = embedder or make_embedder()
    reader = default_reader(use_reader and answers)
    embedder = MemoQueryEmbedder(inner)
    configs = list(configs or ABLATIONS)
    unknown = [c for c in configs if c not in ABLATIONS]
    if unknown:
        raise ValueError(f"unknown configuration(s) {unknown}; choose from {sorted(ABLATIONS)}")
    results: dict[str, EvalResult] = {}
    chosen = [s for s in default_suites(heldout) if not suites or s.name in suites]
    if not chosen:
        raise ValueError(f"no benchmark named {list(suites or [])}; choose from seed_qa.dev, xquad_en2ar, heldout sets")
    for suite in chosen:
        results.update(run_suite(suite, embedder, configs, answers, reader=reader, store=store))
    if answers and not suites:
        # issue 9's answerability protocols (off-corpus, on-corpus, held-out off-corpus, calibration)
        figures = run_protocols(out_dir, heldout=heldout, inner=inner, reader=reader)
        print(protocols_markdown(figures))
        if reader is not None:  # issue 19's: intact, answer removed, held out on their own paragraphs
            answered = run_reader_protocols(cached_embedder(inner), reader, out_dir, heldout=heldout)
            print(reader_markdown(answered))
    summary = write_report(out_dir, results, history_path=RESULTS / "history.jsonl")
    # results.json holds every query's details (megabytes, not committed); summary.json is the figures.
    metrics = {name: {"primary": r.primary_metric, **r.metrics} for name, r in results.items()}
    (out_dir / "summary.json").write_text(json.dumps(metrics, indent=1, sort_keys=True), encoding="utf-8")
    print(summary)
    if not suites and (WEB_PAGES / "expected.json").is_file():
        extraction = measure_extraction()  # per page and per site: headline, date, first sentence, pages/s
        (out_dir / "extraction.json").write_text(json.dumps(extraction, indent=1, sort_keys=True), encoding="utf-8")
        print(extraction_summary(extraction))
    print(f"reports written to {out_dir}")
    return results
