"""The chat page with the trained reader (issue 19): every question type gets its answer span highlighted inside
the cited sentence, and a question the archive covers but cannot answer is plainly "not found". Real browser,
real server, real model and reader."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import ask, screenshot
from tests.live_server import LiveServer, live_server

pytestmark = pytest.mark.slow

# One question per kind of answer (a date, a place, a person or party, an agreement, English over Arabic);
# written for these tests, not taken from the dev questions.
QUESTIONS = {
    "date": "متى انعقدت الجولة الثامنة من مفاوضات أستانا؟",
    "place": "في أي مدينة تجري محادثات أستانا؟",
    "party": "ما هي الدول الضامنة لاتفاق خفض التصعيد؟",
    "agreement": "على ماذا اتفقت الجولة الرابعة من محادثات أستانا؟",
    "english": "Which countries sponsor the Astana talks?",
}


@pytest.fixture(scope="module")
def server(sample_index: Path) -> Iterator[LiveServer]:
    with live_server(sample_index) as live:
        yield live


@pytest.mark.parametrize("kind", sorted(QUESTIONS))
def test_every_question_type_highlights_its_span(page: Page, server: LiveServer, kind: str) -> None:
    """The span is marked inside its citation, the citation's text around it unchanged."""
    body = ask(page, server.url, QUESTIONS[kind])
    assert not body["abstained"], body
    span = body["answer_span"]
    assert span is not None and span["text"], body
    cited = next(c for c in body["citations"] if c["n"] == span["n"])
    assert cited["start"] <= span["start"] < span["end"] <= cited["end"]
    mark = page.locator(f"#citations li[data-n='{span['n']}'] mark.answer-span")
    assert mark.inner_text() == span["text"]
    assert page.inner_text(f"#citations li[data-n='{span['n']}'] .cite-text") == cited["text"]
    screenshot(page, f"reader-span-{kind}")


def test_a_covered_topic_without_the_fact_is_not_found(page: Page, server: LiveServer) -> None:
    """The archive covers Eastern Ghouta but gives no death toll there: "not found", said plainly."""
    body = ask(page, server.url, "كم عدد القتلى في الغوطة الشرقية؟")
    assert body["abstained"] and body["citations"] == [] and body["answer_span"] is None, body
    assert page.locator("#answer .abstained-notice").is_visible()
    screenshot(page, "reader-not-found")
