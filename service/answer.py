"""Extractive answers: the corpus' own sentences, each cited to its exact span."""

from __future__ import annotations

import time
from dataclasses import dataclass

from indexer.chunk import sentence_spans
from indexer.types import Chunk, SearchFilters
from service.search import Searcher

NOT_FOUND = "Not found in the corpus. / لم يُعثر على إجابة في المدونة."


@dataclass(frozen=True)
class Citation:
    n: int
    chunk: Chunk
    start: int  # offsets into the document's canonical text
    end: int
    text: str


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    took_ms: float


class Answerer:
    """Picks the best sentences of the top chunks and cites each one.

    `min_score`: below this dense similarity of the best chunk the corpus is taken not to answer.
    """

    def __init__(self, searcher: Searcher, min_score: float = 0.80, max_sentences: int = 2) -> None:
        if not 1 <= max_sentences <= 3:
            raise ValueError("max_sentences must be 1, 2 or 3")
        self.searcher = searcher
        self.min_score = min_score
        self.max_sentences = max_sentences

    def ask(self, question: str, k: int = 5, filters: SearchFilters | None = None) -> Answer:
        started = time.perf_counter()
        response = self.searcher.search(question, k, filters)
        if not response.results or response.results[0].score < self.min_score:
            return Answer(question, NOT_FOUND, True, (), (time.perf_counter() - started) * 1000)
        candidates: list[tuple[float, Chunk, int, int]] = []
        for result in response.results[:3]:
            chunk = result.chunk
            local = chunk.text
            for s, e in sentence_spans(local):
                candidates.append((result.score - 0.01 * (result.rank - 1), chunk, chunk.start + s, chunk.start + e))
        candidates.sort(key=lambda c: -c[0])
        chosen = candidates[: self.max_sentences]
        citations = tuple(
            Citation(n=i + 1, chunk=chunk, start=start, end=end,
                     text=self.searcher.index.documents[chunk.doc_id].text[start:end])
            for i, (_, chunk, start, end) in enumerate(chosen)
        )
        text = " ".join(f"{c.text} [{c.n}]" for c in citations)
        return Answer(question, text, False, citations, (time.perf_counter() - started) * 1000)
