"""`/ask` as one component (`answerer.py`), its stages each run once per question:

retrieve (`service/search.py`) → analyse (`question.py`: the question once; `passages.py`: each top passage split
and tokenized once) → gate (`answerability.py`: is the archive on topic at all) → read (`reader.py`: the `Reader`
seam, by name) → judge (`judge.py`, over `logistic.py`) → decide (`decide.py`: answer, differing figures, or
abstain; how sure) → present (`present.py`: citations, segments, the answer span, `result.py`'s types). Without a
reader the passages' ranked sentences and the answerability model decide (the fallback).
"""
