"""The chat page in a real browser against the real server: answers, citations, highlighting, RTL, XSS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from indexer.embed import E5Embedder
from service.pipeline import make_builder
from tests.e2e.conftest import screenshot
from tests.live_server import LiveServer, live_server

pytestmark = pytest.mark.slow

HOSTILE_TEXT = """سوق الخضار في حلب يستعيد نشاطه
افتتح سوق الخضار الكبير في مدينة حلب أبوابه من جديد بعد أعمال ترميم استمرت عامين كاملين.
وقال التجار إن أسعار الطماطم <img src=x onerror=alert(1)> انخفضت بنسبة كبيرة هذا الأسبوع في السوق.
وأضاف أحد الباعة <script>window.__pwned = 1; alert(2)</script> أن الإقبال على السوق تضاعف منذ الافتتاح.
"""
NORMAL_TEXT = """مهرجان الكتاب في دمشق
انطلق مهرجان الكتاب السنوي في دمشق بمشاركة مئات دور النشر العربية والأجنبية.
ويستمر المهرجان عشرة أيام ويضم ندوات وأمسيات شعرية وتوقيع كتب جديدة.
وقالت اللجنة المنظمة إن عدد الزوار تجاوز خمسين ألفاً في اليوم الأول.
"""


@pytest.fixture(scope="module")
def server(sample_index: Path) -> Iterator[LiveServer]:
    with live_server(sample_index) as live:
        yield live


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory, embedder: E5Embedder) -> Iterator[LiveServer]:
    corpus = tmp_path_factory.mktemp("hostile-corpus")
    (corpus / "hostile.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    (corpus / "normal.txt").write_text(NORMAL_TEXT, encoding="utf-8")
    index = tmp_path_factory.mktemp("hostile-index") / "index"
    make_builder(embedder, progress=False).run(corpus, index)
    with live_server(index) as live:
        yield live


def ask(page: Page, url: str, question: str) -> dict[str, Any]:
    """Type the question, press Ask, return the /ask JSON the page rendered."""
    page.goto(url)
    page.wait_for_selector("#status[data-state='ok']")
    page.fill("#question", question)
    with page.expect_response(lambda r: r.url.endswith("/ask")) as info:
        page.click("#ask-button")
    body: dict[str, Any] = info.value.json()
    page.wait_for_selector("#answer")
    return body


def direction(page: Page, selector: str) -> str:
    return str(page.eval_on_selector(selector, "el => getComputedStyle(el).direction"))


@pytest.mark.parametrize(("name", "question"), [("arabic", "متى عقدت الجولة الثامنة؟"),
                                                ("english", "what did round four agree?")])
def test_question_gets_an_answer_with_numbered_citations(page: Page, server: LiveServer, name: str,
                                                         question: str) -> None:
    body = ask(page, server.url, question)
    assert not body["abstained"] and body["citations"]
    markers = page.eval_on_selector_all("#answer button.citation-marker", "els => els.map(e => e.dataset.n)")
    items = page.eval_on_selector_all("#citations li", "els => els.map(e => e.dataset.n)")
    assert markers, "the answer shows no citation markers"
    assert items == [str(c["n"]) for c in body["citations"]]
    assert set(markers) <= set(items)
    assert page.inner_text("#answer").strip()
    assert direction(page, "#answer") == "rtl"  # the answer is the corpus' Arabic sentences
    screenshot(page, f"answer-{name}")


def test_clicking_a_citation_highlights_the_cited_span(page: Page, server: LiveServer) -> None:
    body = ask(page, server.url, "ما الذي اتفق عليه في الجولة الرابعة؟")
    marker = page.locator("#answer button.citation-marker").first
    n = int(marker.get_attribute("data-n") or 0)
    citation = next(c for c in body["citations"] if c["n"] == n)
    marker.click()
    page.wait_for_selector("#article-text mark")
    assert page.inner_text("#article-text mark") == citation["text"]
    assert page.get_attribute("#article", "data-doc-id") == citation["doc_id"]
    assert direction(page, "#article-text") == "rtl" and direction(page, "#answer") == "rtl"
    screenshot(page, "article-highlight")

    # the list item opens the same way
    other = page.locator("#citations li").last
    m = int(other.get_attribute("data-n") or 0)
    other.click()
    page.wait_for_function(f"document.querySelector('#article-text mark')?.dataset.n === '{m}'")
    assert page.inner_text("#article-text mark") == next(c for c in body["citations"] if c["n"] == m)["text"]


def test_hostile_article_text_is_shown_literally_and_never_runs(page: Page, hostile_server: LiveServer) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    body = ask(page, hostile_server.url, "كيف تغيرت أسعار الطماطم في سوق الخضار في حلب؟")
    cited = [c for c in body["citations"] if c["doc_id"] == "hostile"]
    assert cited, body
    page.locator(f"#citations li[data-n='{cited[0]['n']}']").click()
    page.wait_for_selector("#article-text mark")
    article = page.inner_text("#article-text")
    assert "<img src=x onerror=alert(1)>" in article
    assert "<script>window.__pwned = 1; alert(2)</script>" in article
    page.wait_for_timeout(500)  # give an injected onerror/script the chance to fire
    injected = page.evaluate("document.querySelectorAll('#history img, #history script, #article img, "
                             "#article script').length")
    assert injected == 0
    assert page.evaluate("window.__pwned === undefined")
    assert dialogs == []
    screenshot(page, "hostile-article")
