"""RSS 2.0 / Atom files to items (feedparser)."""

from __future__ import annotations

from dataclasses import dataclass

import feedparser


@dataclass(frozen=True)
class FeedItem:
    url: str | None
    title: str | None
    published: str | None
    content: str
    summary_only: bool


def read_feed(data: bytes, base_url: str | None = None) -> list[FeedItem]:
    parsed = feedparser.parse(data, response_headers={"content-location": base_url} if base_url else None)
    items: list[FeedItem] = []
    for entry in parsed.entries:
        full = "".join(c.get("value", "") for c in entry.get("content", []))
        date = entry.get("published_parsed") or entry.get("updated_parsed")
        items.append(
            FeedItem(
                url=entry.get("link"),
                title=entry.get("title"),
                published=f"{date.tm_year:04d}-{date.tm_mon:02d}-{date.tm_mday:02d}" if date else None,
                content=full or entry.get("summary", ""),
                summary_only=not full,
            )
        )
    return items
