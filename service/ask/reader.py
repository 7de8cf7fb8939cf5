"""The `Reader` seam of `/ask`, like Haystack's `ExtractiveReader`: its protocol and types, the registry that
opens one by name, and the read stage (the reader's best span and answer probability for each top passage).

A reader gives spans and probabilities, nothing else: the judge that decides over them is loaded beside it
(`judge.load_judge_for`), not carried by it. The ONNX reader (`indexer/reader/runtime.py`) stays below the
service because training calibrates with it; its model file, inputs and spans are the training's too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from isnad.indexer.reader.spans import Reading
from isnad.service.search import SearchResponse, SearchResult

__all__ = ["READERS", "OwnedReader", "PassageReading", "Reader", "Reading", "open_reader", "read"]


class Reader(Protocol):
    runtime: str
    threshold: float  # answer when the best passage's probability reaches it (without a judge)

    def read(self, question: str, passages: Sequence[str]) -> list[Reading]: ...


def _onnx(path: Path | None, **options: Any) -> Reader:
    from isnad.indexer.reader.runtime import OnnxReader
    from isnad.indexer.reader.weights import DEFAULT_READER

    return OnnxReader(path or DEFAULT_READER, **options)


# name -> opener(path, **options): a new reader joins here and is chosen by name (ISNAD_READER).
READERS: dict[str, Callable[..., Reader]] = {"onnx": _onnx}


def open_reader(name: str, path: Path | None = None, **options: Any) -> Reader:
    if name not in READERS:
        raise ValueError(f"no reader named {name!r} (known: {', '.join(sorted(READERS))})")
    return READERS[name](path, **options)


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
        self.runtime, self.threshold = inner.runtime, inner.threshold

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
