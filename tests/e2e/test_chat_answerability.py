"""The chat page shows the answer's confidence, highlights its answer span, and says plainly when the archive
has no answer, with the closest passages collapsed (issue 9). Real browser, real server, real model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import ask, screenshot
from tests.live_server import LiveServer, live_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(sample_index: Path) -> Iterator[LiveServer]:
    with live_server(sample_index) as live:
        yield live


def test_answer_shows_confidence_and_highlights_the_span(page: Page, server: LiveServer) -> None:
    body = ask(page, server.url, "متى عقدت الجولة الثامنة من محادثات أستانة؟")
    assert not body["abstained"]
    assert f"{round(body['confidence'] * 100)}%" in page.inner_text("#answer .confidence")
    span = body["answer_span"]
    assert span is not None, body
    mark = page.locator(f"#citations li[data-n='{span['n']}'] mark.answer-span")
    assert mark.inner_text() == span["text"]
    cited = next(c for c in body["citations"] if c["n"] == span["n"])
    # the rest of the citation is still there around the highlight
    assert page.inner_text(f"#citations li[data-n='{span['n']}'] .cite-text") == cited["text"]
    screenshot(page, "answer-span-highlight")


@pytest.mark.parametrize("question", ["What is the capital of France?", "ما هي عاصمة فرنسا؟"])
def test_abstention_says_so_and_offers_closest_passages_collapsed(page: Page, server: LiveServer,
                                                                  question: str) -> None:
    body = ask(page, server.url, question)
    assert body["abstained"] and body["citations"] == [] and body["closest"]
    assert page.locator("#answer .abstained-notice").is_visible()
    details = page.locator(".qa details.closest")
    assert details.count() == 1
    assert not details.evaluate("d => d.open")  # collapsed until asked for
    assert not page.locator(".closest-list li").first.is_visible()
    details.locator("summary").click()
    items = page.locator(".closest-list li")
    assert items.count() == len(body["closest"])
    assert items.first.is_visible()
    assert items.first.locator("blockquote").text_content() == body["closest"][0]["text"]  # exact, never parsed
    screenshot(page, "abstention-closest")
