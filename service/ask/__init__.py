"""`/ask` as a line of stages, each taking what the one before gives:

retrieve (`service/search.py`: the response, its analyzed question) → read (`read.py`: the reader's span and
probability per top passage) → decide (`decide.py`: answer, differing figures, or abstain) → present
(`present.py`: citations, segments, the answer span). Without a reader file, `sentences.py` chooses the
sentences and the answerability model decides, as before the reader (the fallback).
"""
