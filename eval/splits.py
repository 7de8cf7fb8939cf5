"""A fixed train/test split of xquad_en2ar by article, so bridge parameters are chosen on one half and
reported on the other. Articles (titles), not questions, are split: a paragraph's questions share words."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from isnad.eval.datasets import Benchmark


def xquad_split(title: str) -> str:
    """'train' or 'test' for an article title; about half each, fixed forever by the hash."""
    return "train" if hashlib.sha256(title.encode("utf-8")).digest()[0] % 2 == 0 else "test"


def split_benchmark(bench: Benchmark, part: str) -> Benchmark:
    """The queries of `bench` whose gold documents belong to articles of `part` (all documents are kept)."""
    titles = {d.doc_id: d.title or "" for d in bench.documents}
    queries = tuple(q for q in bench.queries if q.relevant_docs
                    and all(xquad_split(titles[doc]) == part for doc in q.relevant_docs))
    return replace(bench, name=f"{bench.name}[{part}]", queries=queries)
