"""nDCG@10 (and recall@5, MRR@10) of the service's search through the FAISS store and through the Milvus store,
on the seed dev set and xquad_en2ar, same model, same configuration ("all", the service's), same run.

    .venv/bin/python scripts/milvus_eval.py [--milvus-uri URI] [--out DIR] [--sort-window 4096]

Without --milvus-uri each Milvus index is a milvus-lite file inside its index folder. milvus-lite is not Milvus'
production engine; this compares results, not speed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from isnad.eval.metrics import evaluate_retrieval
from isnad.eval.run import default_suites, retriever
from isnad.indexer.embed import make_embedder
from isnad.indexer.pipeline import make_builder
from isnad.indexer.stores import store_factory
from isnad.service.search import ABLATIONS
from isnad.service.state import open_searcher

METRICS = ("ndcg@10", "recall@5", "mrr@10")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--milvus-uri", default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--sort-window", type=int, default=1, help="as `isnad index --sort-window` (4096: sorted)")
    args = parser.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="milvus-eval-"))
    embedder = make_embedder()
    rows: dict[str, dict[str, float]] = {}
    for suite in default_suites():
        for store in ("faiss", "milvus"):
            folder = work / f"{suite.name}-{store}"
            factory = store_factory(store, folder, args.milvus_uri, f"eval_{suite.name.replace('.', '_')}")
            builder = make_builder(embedder, progress=False, store_factory=factory, sort_window=args.sort_window)
            builder.run(suite.benchmarks[0].documents, folder)
            searcher = open_searcher(folder, embedder).with_config(ABLATIONS["all"])
            searcher.prepare_bridges([q.text for b in suite.benchmarks for q in b.queries])
            for bench in suite.benchmarks:
                result = evaluate_retrieval(bench, retriever(searcher))
                row = {m: round(result.metrics[m], 4) for m in METRICS if m in result.metrics}
                rows[f"{bench.name} | {store}"] = row
                print(f"{bench.name} | {store}: {row}", flush=True)
            searcher.index.store.close()
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
