"""Evaluation harness: benchmark loaders (`eval.datasets`), metrics (`eval.metrics`), reports (`eval.report`).

The harness never builds an index or loads a model. A runner (`eval/run.py`, `isnad eval`) wires the engine:

    bench = load_benchmark("data/eval/xquad_en2ar:en")
    # index bench.documents (indexer.pipeline.make_builder), open a searcher on it (service.open_searcher), then:
    retrieve = lambda q: [RetrievedPassage(r.chunk.doc_id, r.chunk.text) for r in searcher.search(q, 30).results]
    result = evaluate_retrieval(bench, retrieve)
    answers = evaluate_answers(bench, ask)  # ask(q) -> AnswerOutcome(text, abstained, cited_doc_ids)
    summary = write_report(out_dir, {"all": result}, history_path="eval/results/history.jsonl")

`retrieve` should return at least 10 passages, and for document-level benchmarks enough to cover 10 distinct
documents (ranks are counted over distinct documents there). Passage text must be the chunk text the engine
would show, so the seed set's answer-substring rule can see it.
"""

from isnad.eval.datasets import Benchmark, Query, load_beir, load_benchmark, load_seed, load_squad
from isnad.eval.metrics import AnswerOutcome, EvalResult, RetrievedPassage, evaluate_answers, evaluate_retrieval
from isnad.eval.report import write_report

__all__ = [
           "AnswerOutcome",
           "Benchmark",
           "EvalResult",
           "Query",
           "RetrievedPassage",
           "evaluate_answers",
           "evaluate_retrieval",
           "load_beir",
           "load_benchmark",
           "load_seed",
           "load_squad",
           "write_report",
]
