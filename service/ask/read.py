"""Read: the reader's best span and answer probability for each of the top passages, in one batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from isnad.indexer.reader.runtime import Reading
from isnad.service.search import SearchResponse, SearchResult

T = TypeVar("T")


class Reader(Protocol):
    runtime: str
    threshold: float  # answer when the best passage's probability reaches it (without a judge)
    judge_meta: dict  # the judge fitted for this reader (service/ask/judge.py), {} if none

    def read(self, question: str, passages: Sequence[str]) -> list[Reading]: ...


@dataclass(frozen=True)
class PassageReading:
    result: SearchResult
    reading: Reading

    @property
    def probability(self) -> float:
        return self.reading.probability


class OwnedReader:
    """A reader whose calls run where `run` puts them (the embedder's owner thread in the service)."""

    def __init__(self, inner: Reader, run: Callable[[Callable[[], Any]], Any]) -> None:
        self.inner, self.run = inner, run
        self.runtime, self.threshold, self.judge_meta = inner.runtime, inner.threshold, inner.judge_meta

    def read(self, question: str, passages: Sequence[str]) -> list[Reading]:
        return self.run(lambda: self.inner.read(question, passages))


def read(response: SearchResponse, reader: Reader, passages: int, skip: int = 0) -> tuple[PassageReading, ...]:
    """Readings of the top `passages` results (past the first `skip`), best first (probability, then rank)."""
    results = response.results[skip:passages]
    if not results:
        return ()
    question = response.analyzed.text if response.analyzed is not None else response.query
    readings = reader.read(question, [r.chunk.text for r in results])
    pairs = [PassageReading(r, x) for r, x in zip(results, readings, strict=True)]
    return tuple(sorted(pairs, key=lambda p: (-p.probability, p.result.rank)))
