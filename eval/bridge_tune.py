"""Choose the cross-lingual bridge's parameters on the TRAIN half of xquad_en2ar (English questions) and
report them on the test half and the whole set. Run: `python -m eval.bridge_tune [--grid]`.

Never reads seed_qa.dev or the held-out sets: those report, they do not choose.
"""

from __future__ import annotations

import itertools
import sys
import time
from dataclasses import replace

from isnad.eval.cache import CACHE, DATA, MemoQueryEmbedder, cache_folder
from isnad.eval.datasets import load_beir
from isnad.eval.metrics import evaluate_retrieval
from isnad.eval.run import retriever
from isnad.eval.splits import split_benchmark
from isnad.indexer.embed import make_embedder
from isnad.indexer.pipeline import make_builder
from isnad.indexer.text import induced
from isnad.indexer.text.induced import english_content_words
from isnad.service.search import ABLATIONS, SearchConfig
from isnad.service.state import open_searcher


def main(grid: bool, min_df: int | None = None) -> None:
    if min_df is not None:
        induced.MIN_DF = min_df
    embedder = MemoQueryEmbedder(make_embedder())
    bench = load_beir(DATA / "xquad_en2ar", "en", "xquad_en2ar/en")
    folder = cache_folder(bench, embedder)
    make_builder(embedder, progress=False).run(bench.documents, folder)
    searcher = open_searcher(folder, embedder)
    words = list(dict.fromkeys(w for q in bench.queries for w in english_content_words(q.text)))
    embedder.warm([q.text for q in bench.queries] + words, CACHE / "query-vectors.npz")
    started = time.perf_counter()
    searcher.prepare_bridges([q.text for q in bench.queries])
    print(f"bridge prepared in {time.perf_counter() - started:.1f}s")
    parts = {p: split_benchmark(bench, p) for p in ("train", "test")}
    print({p: len(b.queries) for p, b in parts.items()})

    def score(cfg: SearchConfig, part: str) -> float:
        b = parts[part] if part != "all" else bench
        return evaluate_retrieval(b, retriever(searcher.with_config(cfg))).metrics["ndcg@10"]

    if grid:
        best = ABLATIONS["full"]
        best_s = score(best, "train")
        print(f"start {best_s:.4f}", flush=True)
        # coordinate descent on the TRAIN half: each lever's values, on top of the best so far
        steps: list[dict[str, tuple]] = [
            {"lexical_weight_bridge": (0.04,), "induced": (True,), "names": (True,), "dates": (True,)},
            {"induced_threshold": (0.84, 0.86, 0.88, 0.9), "induced_neighbours": (2, 3, 4)},
            {"induced_weight": (0.3, 0.6, 1.0)},
            {"names": (False, True)},
        ]
        for step in steps:
            for values in itertools.product(*step.values()):
                cfg = replace(best, **dict(zip(step, values, strict=True)))
                s = score(cfg, "train")
                print(f"  {dict(zip(step, values, strict=True))}: {s:.4f}", flush=True)
                if s > best_s + 1e-4:
                    best_s, best = s, cfg
        print("chosen:", best, flush=True)
        print(f"chosen: train {best_s:.4f} test {score(best, 'test'):.4f} all {score(best, 'all'):.4f}", flush=True)
    for name in ("dense", "full", "bridge:+induced", "bridge:+names", "all", "bridge:no-hand"):
        cfg = ABLATIONS[name]
        print(name, " ".join(f"{p}={score(cfg, p):.4f}" for p in ("train", "test", "all")), flush=True)


if __name__ == "__main__":
    main("--grid" in sys.argv, int(sys.argv[sys.argv.index("--min-df") + 1]) if "--min-df" in sys.argv else None)
