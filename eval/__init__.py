"""Evaluation harness: benchmark loaders (`eval.datasets`), metrics (`eval.metrics`), reports (`eval.report`).

The harness never builds an index or loads a model. A runner (`eval/run.py`, `isnad eval`) wires the engine:

    bench = load_benchmark("/work/shared/eval/xquad_en2ar:en")
    # index bench.documents with the engine, then:
    retrieve = lambda q: [RetrievedPassage(c.doc_id, c.text) for c in searcher.search(q, k=10).chunks]
    result = evaluate_retrieval(bench, retrieve)
    answers = evaluate_answers(bench, ask)  # ask(q) -> AnswerOutcome(text, abstained, cited_doc_ids)
    summary = write_report(out_dir, {"e5-base": result}, history_path="eval/results/history.jsonl")

`retrieve` should return at least 10 passages, and for document-level benchmarks enough to cover 10 distinct
documents (ranks are counted over distinct documents there). Passage text must be the chunk text the engine
would show, so the seed set's answer-substring rule can see it.
"""
