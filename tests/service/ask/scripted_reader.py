"""A reader that says what it is told (a stand-in for the model where a test is about what the service does with
the reader's output; tests/indexer/reader tests the real one)."""

from __future__ import annotations

from isnad.service.ask.reader import Reading


class ScriptedReader:
    """For each passage, the probability and span it is told to (the first key found in the passage; the span
    found by its text), else a low probability and no span."""

    runtime = "scripted"
    threshold = 0.5

    def __init__(self, script: dict[str, tuple[float, str]]) -> None:
        self.script = script
        self.calls: list[tuple[str, list[str]]] = []

    def read(self, question: str, passages: list[str]) -> list[Reading]:
        self.calls.append((question, list(passages)))
        out = []
        for i, text in enumerate(passages):
            p, span = next((v for key, v in self.script.items() if key in text), (0.01, ""))
            start = text.find(span) if span else 0
            out.append(Reading(i, p, start, start + len(span), 1.0))
        return out
