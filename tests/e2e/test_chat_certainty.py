"""Doubt shown as doubt (issue 28): a "sure" answer looks as before (highlighted span, no notice), a "possible"
one is a muted, outlined answer under "possible answer, not confirmed: read the passage", and "not found" keeps
its closest passages, marked as not answering. Real browser, real server, real model and reader.

The certainties are driven by the judge's bars: the server reads the shipped reader through ISNAD_READER_FILE,
from a copy in a temporary folder whose `reader.judge.json` beside it is the shipped judge with a `sure_thresholds`
set by this test (between the confidences the shipped reader gives two questions in process), so one question is
sure and the other possible whatever the shipped judge's own bars are.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from isnad.indexer.reader.weights import DEFAULT_READER, judge_path
from isnad.service.state import ServiceState
from tests.e2e.conftest import ask, screenshot
from tests.live_server import LiveServer, live_server

pytestmark = pytest.mark.slow

# Written for these tests (not the dev questions); all Arabic, so one language's bar decides.
ANSWERED = (
    "متى انعقدت الجولة الثامنة من مفاوضات أستانا؟",
    "في أي مدينة تجري محادثات أستانا؟",
    "ما هي الدول الضامنة لاتفاق خفض التصعيد؟",
    "على ماذا اتفقت الجولة الرابعة من محادثات أستانا؟",
)
NOT_HELD = "كم عدد القتلى في الغوطة الشرقية؟"  # a covered topic, a fact no sample article holds


@pytest.fixture(scope="module")
def picked(service_state: ServiceState) -> dict[str, str | float]:
    """The most and the least confident answered question, and a sure bar halfway between them."""
    confidence = {}
    for q in ANSWERED:
        answer = service_state.answerer.ask(q)
        if not answer.abstained and answer.confidence is not None:
            confidence[q] = answer.confidence
    assert len(confidence) >= 2, confidence
    sure, possible = max(confidence, key=confidence.__getitem__), min(confidence, key=confidence.__getitem__)
    assert confidence[sure] - confidence[possible] > 0.02, confidence  # room for a bar between them
    return {"sure": sure, "possible": possible, "bar": (confidence[sure] + confidence[possible]) / 2}


@pytest.fixture(scope="module")
def server(sample_index: Path, picked: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("reader")
    reader = Path(shutil.copy2(DEFAULT_READER, folder / DEFAULT_READER.name))
    meta = json.loads(judge_path(DEFAULT_READER).read_text(encoding="utf-8"))
    meta["sure_thresholds"] = {"ar": picked["bar"], "en": picked["bar"]}
    judge_path(reader).write_text(json.dumps(meta), encoding="utf-8")
    with live_server(sample_index, env={"ISNAD_READER_FILE": str(reader)}) as live:
        yield live


def test_a_sure_answer_looks_as_before(page: Page, server: LiveServer, picked: dict) -> None:
    body = ask(page, server.url, picked["sure"])
    assert body["certainty"] == "sure" and body["confidence"] >= picked["bar"], body
    entry = page.locator("#answer").locator("xpath=ancestor::article[contains(@class, 'qa')]")
    assert entry.get_attribute("data-certainty") == "sure"
    assert page.locator(".possible-notice").count() == 0 and page.locator(".abstained-notice").count() == 0
    span = body["answer_span"]
    mark = page.locator(f"#citations li[data-n='{span['n']}'] mark.answer-span")
    assert mark.inner_text() == span["text"]
    # the highlight: a filled background, not the possible answer's transparent one
    assert mark.evaluate("m => getComputedStyle(m).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
    screenshot(page, "certainty-sure")


def test_a_possible_answer_is_shown_as_doubt(page: Page, server: LiveServer, picked: dict) -> None:
    body = ask(page, server.url, picked["possible"])
    assert body["certainty"] == "possible" and not body["abstained"] and body["confidence"] < picked["bar"], body
    notice = page.locator(".qa.possible .possible-notice")
    assert notice.is_visible()
    text = notice.inner_text()
    assert "Possible answer, not confirmed: read the passage" in text and "إجابة محتملة غير مؤكدة" in text
    # still cited and its span still shown in its passage, but not highlighted as the answer
    assert page.locator("#citations li").count() == len(body["citations"]) >= 1
    span = body["answer_span"]
    if span is not None:
        mark = page.locator(f"#citations li[data-n='{span['n']}'] mark.answer-span")
        assert mark.inner_text() == span["text"]
        assert mark.evaluate("m => getComputedStyle(m).backgroundColor") in ("rgba(0, 0, 0, 0)", "transparent")
    answer = page.locator("#answer")
    assert answer.get_attribute("data-certainty") == "possible"
    assert answer.evaluate("a => getComputedStyle(a).borderTopStyle") == "dashed"
    screenshot(page, "certainty-possible")


def test_not_found_keeps_the_closest_passages_marked_as_not_answering(page: Page, server: LiveServer) -> None:
    body = ask(page, server.url, NOT_HELD)
    assert body["certainty"] == "not_found" and body["abstained"] and body["closest"], body
    assert page.locator("#answer .abstained-notice").is_visible()
    assert page.locator(".possible-notice").count() == 0
    details = page.locator(".qa details.closest")
    assert "do not answer" in details.locator("summary").inner_text()
    details.locator("summary").click()
    assert page.locator(".closest-list li").count() == len(body["closest"])
    screenshot(page, "certainty-not-found")
