"""What the cross-lingual bridge costs an English question, with and without the English word table (issue #13).

Run: `python -m eval.bridge_cost [--questions 120] [--table-words N] [--ndcg]`. It
1. builds (or reuses) the xquad_en2ar index as `make eval` does, and the index's English word table
   (`isnad english-table`; the seconds it took are the indexing-time effect);
2. compares the bridge's expansions (and `analyze`'s weighted BM25 terms) of every English question of xquad_en2ar
   and seed_qa.dev with the table against the live path (every word through the model);
3. times `Searcher.search` on the first N English XQuAD questions in one process, interleaved per question:
   hand lexicon only (`full`), all bridge levers without the table, all levers with it; the induced lexicon's memo
   is cleared before each question, so every question's words are unseen (the cold case);
4. with --ndcg, scores nDCG@10 on the train/test halves with and without the table.

The machine may be busy: it prints the load average, and the figures to compare are the per-question
differences (bridge minus hand lexicon), not the seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from isnad.eval.cache import CACHE, DATA, ROOT, cache_folder
from isnad.eval.datasets import Benchmark, load_beir, load_seed
from isnad.eval.metrics import evaluate_retrieval
from isnad.eval.run import retriever
from isnad.eval.splits import split_benchmark
from isnad.indexer.embed import Embedder, make_embedder
from isnad.indexer.index import Index
from isnad.indexer.pipeline import make_builder
from isnad.indexer.text.english_vectors import TABLE_FILE, EnglishVectors, load_words
from isnad.indexer.text.induced import english_content_words
from isnad.indexer.text.query import analyze, query_language
from isnad.service.search import ABLATIONS, Searcher


def _english(bench: Benchmark) -> list[str]:
    return [q.text for q in bench.queries if query_language(q.text) == "en"]


def _index(bench: Benchmark, embedder: Embedder, cache: Path) -> Path:
    folder = cache_folder(bench, embedder, cache)
    make_builder(embedder, progress=False).run(bench.documents, folder)  # reuses an up-to-date index
    return folder


def ensure_table(folder: Path, embedder: Embedder, limit: int | None) -> float:
    """Write the index's English word table unless it holds the same words; the seconds it took (0: reused)."""
    words = load_words(limit=limit)
    table = EnglishVectors.load_for(folder, embedder)
    if table is not None and table.words == words:
        return 0.0
    started = time.perf_counter()
    EnglishVectors.build(embedder, words).save(folder / TABLE_FILE)
    return time.perf_counter() - started


def _searchers(folder: Path, embedder: Embedder, scratch: Path) -> tuple[Searcher, Searcher]:
    """(all levers without the table, all levers with it): the same index, one copy lacking the table file."""
    bare = scratch / "without-table"
    shutil.copytree(folder, bare, ignore=shutil.ignore_patterns(TABLE_FILE, ".writer.lock"))
    live = Searcher(Index.load(bare, embedder.model_id), embedder, config=ABLATIONS["all"])
    table = Searcher(Index.load(folder, embedder.model_id), embedder, config=ABLATIONS["all"])
    for s in (live, table):
        s.prepare_bridges()
    return live, table


def compare_expansions(live: Searcher, table: Searcher, questions: Sequence[str]) -> tuple[int, int, int, int]:
    """(questions whose expansions differ, whose weighted terms differ, content words, words in the table)."""
    b_live, b_table = live.bridges(), table.bridges()
    assert b_live is not None and b_table is not None and b_table.induced is not None
    vectors = b_table.induced.english
    diff_exp = diff_terms = n_words = in_table = 0
    for q in questions:
        a, b = analyze(q, live.lexicon, b_live), analyze(q, table.lexicon, b_table)
        diff_exp += a.expansions != b.expansions
        diff_terms += a.weighted_terms() != b.weighted_terms()
        words = english_content_words(q)
        n_words += len(words)
        in_table += sum(w in vectors for w in words) if vectors is not None else 0
    return diff_exp, diff_terms, n_words, in_table


def time_searches(live: Searcher, table: Searcher, questions: Sequence[str]) -> dict[str, list[float]]:
    """Milliseconds per question of each variant, interleaved; the memo is cleared so every word is unseen."""
    hand = live.with_config(ABLATIONS["full"])
    lexicons = [s.bridges().induced for s in (live, table)]  # type: ignore[union-attr]
    times: dict[str, list[float]] = {"hand lexicon": [], "bridge, model": [], "bridge, table": []}
    same = 0
    for q in questions:
        for lexicon in lexicons:
            lexicon.forget()  # type: ignore[union-attr]
        results = {}
        for name, s in zip(times, (hand, live, table), strict=True):
            started = time.perf_counter()
            r = s.search(q, 10)
            times[name].append((time.perf_counter() - started) * 1000)
            results[name] = [(x.chunk.chunk_id, x.score) for x in r.results]
        same += results["bridge, model"] == results["bridge, table"]
    print(f"identical top-10 (chunks and fused scores), model vs table: {same}/{len(questions)}")
    return times


def _report(times: dict[str, list[float]]) -> None:
    base = times["hand lexicon"]
    for name, ms in times.items():
        extra = [m - b for m, b in zip(ms, base, strict=True)]
        print(f"{name:14s} p50 {statistics.median(ms):6.1f} ms  p90 {statistics.quantiles(ms, n=10)[-1]:6.1f} ms"
              f"  median extra over hand lexicon {statistics.median(extra):+6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=120, help="English XQuAD questions timed")
    parser.add_argument("--table-words", type=int, default=None, help="table size (default: the whole list)")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"index cache folder (default {CACHE})")
    parser.add_argument("--ndcg", action="store_true", help="also nDCG@10 on the train/test halves")
    args = parser.parse_args()
    embedder = make_embedder()
    xquad = load_beir(DATA / "xquad_en2ar", "en", "xquad_en2ar/en")
    seed = load_seed(DATA / "seed_qa.dev.jsonl", ROOT / "data" / "astana")
    print(f"load average {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as scratch:
        for bench in (xquad, seed):
            folder = _index(bench, embedder, args.cache)
            seconds = ensure_table(folder, embedder, args.table_words)
            print(f"{bench.name}: English table {'reused' if not seconds else f'built in {seconds:.1f}s'}")
            live, table = _searchers(folder, embedder, Path(scratch) / bench.name.replace("/", "-"))
            questions = _english(bench)
            diff_exp, diff_terms, n_words, in_table = compare_expansions(live, table, questions)
            print(f"{bench.name}: {len(questions)} English questions; expansions differ in {diff_exp}, weighted "
                  f"BM25 terms in {diff_terms}; {in_table}/{n_words} content words in the table")
            if bench is xquad:
                _report(time_searches(live, table, questions[: args.questions]))
                if args.ndcg:
                    for part in ("train", "test"):
                        b = split_benchmark(bench, part)
                        scores = [evaluate_retrieval(b, retriever(s)).metrics["ndcg@10"] for s in (live, table)]
                        print(f"nDCG@10 {part}: model {scores[0]:.4f}, table {scores[1]:.4f}")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
