"""What a reader could not use: the file (or file:line, or WARC record) and why, one line a user can act on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True)
class Duplicate(Skipped):
    """An article read before (the same page saved again, or a crawl's revisit): indexed once, logged at INFO
    (a crawl may hold thousands) and counted."""
