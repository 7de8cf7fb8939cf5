"""Extraction on the shared Arabic news pages (../shared/corpus/web/html beside the repo)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from isnad.indexer.types import Document
from isnad.indexer.web import Skipped, canonical_url, extract_page, read_feed

PAGES = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "web" / "html"
if not PAGES.is_dir():
    PAGES = Path("/work/shared/corpus/web/html")
pytestmark = pytest.mark.skipif(not (PAGES / "expected.json").is_file(), reason="shared web corpus not present")


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _expected() -> dict[str, dict[str, str]]:
    return json.loads((PAGES / "expected.json").read_text(encoding="utf-8")) if PAGES.is_dir() else {}


@pytest.mark.parametrize("name", sorted(_expected()))
def test_first_sentence_is_in_the_extracted_text(name: str) -> None:
    want = _expected()[name]
    doc = extract_page((PAGES / name).read_bytes(), url=want["url"])
    assert isinstance(doc, Document)
    assert _fold(want["first_sentence"])[:60] in _fold(doc.text)


def test_bad_inputs_are_skipped_with_a_reason() -> None:
    assert isinstance(extract_page(b"   "), Skipped)
    assert isinstance(extract_page(bytes(range(256)) * 50), Skipped)


def test_canonical_url_strips_tracking_parameters() -> None:
    assert canonical_url("https://Example.com/a?utm_source=x&id=3") == "https://example.com/a?id=3"
    assert canonical_url("javascript:alert(1)") == "javascript:alert(1)"


def test_feed_items_mark_summary_only() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>a</title><link>https://example.com/a</link><description>s</description></item></channel></rss>"""
    items = read_feed(rss)
    assert [(i.url, i.summary_only) for i in items] == [("https://example.com/a", True)]
