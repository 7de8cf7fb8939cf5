"""The chat page in a real browser against the real server: answers, citations, highlighting, RTL, XSS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route

from isnad.indexer.embed import Embedder
from isnad.indexer.pipeline import make_builder
from tests.e2e.conftest import ask, screenshot
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
# Brackets in the text must stay text ("[1]" would forge a marker), and a 300-character token must wrap.
LONG_TOKEN = "https://example.org/archive/" + "a" * 300
BRACKETS_TEXT = f"""جسر الفرات الجديد في الرقة
افتتح جسر الفرات الجديد في مدينة الرقة أمام حركة السيارات [1] بعد أعمال بناء استمرت ثلاث سنوات [2].
وقال المهندس المسؤول عن جسر الفرات إن الوثيقة منشورة على الرابط {LONG_TOKEN} في الموقع الرسمي.
"""


@pytest.fixture(scope="module")
def server(sample_index: Path) -> Iterator[LiveServer]:
    with live_server(sample_index) as live:
        yield live


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[LiveServer]:
    corpus = tmp_path_factory.mktemp("hostile-corpus")
    (corpus / "hostile.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    (corpus / "normal.txt").write_text(NORMAL_TEXT, encoding="utf-8")
    (corpus / "brackets.txt").write_text(BRACKETS_TEXT, encoding="utf-8")
    index = tmp_path_factory.mktemp("hostile-index") / "index"
    make_builder(embedder, progress=False).run(corpus, index)
    with live_server(index) as live:
        yield live


def direction(page: Page, selector: str) -> str:
    return str(page.eval_on_selector(selector, "el => getComputedStyle(el).direction"))


@pytest.mark.parametrize(("name", "question"), [
    ("arabic", "متى عقدت الجولة الثامنة؟"), ("english", "When did the eighth round of the Astana talks take place?")])
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
    body = ask(page, server.url, "متى عقدت الجولة التاسعة من محادثات أستانا؟")
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
    # a function, not an expression string: the page's CSP forbids the eval a string predicate needs
    page.wait_for_function("n => document.querySelector('#article-text mark')?.dataset.n === n", arg=str(m))
    assert page.inner_text("#article-text mark") == next(c for c in body["citations"] if c["n"] == m)["text"]


def test_hostile_article_text_is_shown_literally_and_never_runs(page: Page, hostile_server: LiveServer) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    # any answer from the hostile article opens it; the markup sits in its other sentences
    body = ask(page, hostile_server.url, "كم استمرت أعمال ترميم سوق الخضار في حلب؟")
    cited = [c for c in body["citations"] if c["doc_id"] == "hostile"]
    assert cited, body
    page.locator(f"#citations li[data-n='{cited[0]['n']}']").click()
    page.wait_for_selector("#article-text mark")
    article = page.inner_text("#article-text")
    assert "<img src=x onerror=alert(1)>" in article
    assert "<script>window.__pwned = 1; alert(2)</script>" in article
    # No <img>/<script> element exists in the page, so no injected handler can ever fire: no wait needed.
    injected = page.evaluate("document.querySelectorAll('#history img, #history script, #article img, "
                             "#article script').length")
    assert injected == 0
    assert page.evaluate("window.__pwned === undefined")
    assert dialogs == []
    screenshot(page, "hostile-article")


BRIDGE_QUESTION = "متى افتتح جسر الفرات الجديد في مدينة الرقة أمام السيارات؟"


def test_brackets_in_document_text_never_become_citation_markers(page: Page, hostile_server: LiveServer) -> None:
    body = ask(page, hostile_server.url, BRIDGE_QUESTION)
    bridge = [c for c in body["citations"] if c["doc_id"] == "brackets" and "[1]" in c["text"]]
    assert bridge, body  # the sentence with a literal "[1]" is cited
    markers = page.eval_on_selector_all("#answer button.citation-marker", "els => els.map(e => e.dataset.n)")
    assert markers == [str(c["n"]) for c in body["citations"]]  # exactly the service's own, once each
    assert "أمام حركة السيارات [1] بعد" in page.inner_text("#answer")  # shown literally, as text
    assert "السيارات \\[1\\] بعد" in body["answer"]  # and escaped in the string form
    assert [s["n"] for s in body["answer_segments"] if s["n"] is not None] == [c["n"] for c in body["citations"]]
    screenshot(page, "brackets-stay-text")


# Text boxes that stick out of their own element, left or right (RTL text overflows to the left, which no
# scrollbar shows, so the page's scrollWidth would not tell). 16 px of slack: pre-wrap lets a line's trailing
# space hang a few pixels past the edge; an unwrapped 300-character token sticks out by hundreds.
_OVERFLOWING = """() => {
  const bad = [];
  const selector = ".q, .answer-text, .cite-head, .cite-text, #article-title, #article-text";
  for (const el of document.querySelectorAll(selector)) {
    if (!el.getClientRects().length) continue;
    const box = el.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(el);
    if ([...range.getClientRects()].some((r) => r.left < box.left - 16 || r.right > box.right + 16)) {
      bad.push(el.id || el.className);
    }
  }
  return bad;
}"""


def _overflowing(page: Page) -> list[str]:
    return list(page.evaluate(_OVERFLOWING))


@pytest.mark.parametrize("width", [1280, 400])
def test_a_long_unbroken_token_wraps_instead_of_overflowing(browser: Browser, hostile_server: LiveServer,
                                                            width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        body = ask(page, hostile_server.url, "ما هو رابط الوثيقة التي ذكرها المهندس المسؤول عن جسر الفرات؟")
        cited = next(c for c in body["citations"] if LONG_TOKEN in c["text"])
        assert LONG_TOKEN in body["answer"] and LONG_TOKEN in page.inner_text("#answer")
        assert _overflowing(page) == []
        page.locator(f"#citations li[data-n='{cited['n']}']").click()
        page.wait_for_selector("#article-text mark")
        assert _overflowing(page) == []
        screenshot(page, f"long-token-{width}")
    finally:
        context.close()


def test_untitled_articles_show_a_derived_lead_and_dates_show_where_known(page: Page, server: LiveServer) -> None:
    body = ask(page, server.url, "متى عقدت الجولة الثامنة؟")
    derived = next(c for c in body["citations"] if c["title_derived"])
    title = page.locator(f"#citations li[data-n='{derived['n']}'] .cite-title")
    assert title.inner_text() == derived["title"] and derived["title"].endswith("…")
    assert title.get_attribute("data-derived") == "true"
    assert "(untitled)" not in page.inner_text("#history")
    page.locator(f"#citations li[data-n='{derived['n']}']").click()
    page.wait_for_selector("#article-text mark")
    assert page.inner_text("#article-title") == derived["title"]
    assert page.get_attribute("#article-title", "data-derived") == "true"

    dated = ask(page, server.url, "ما الذي ناقشته الجولة السادسة من محادثات أستانا؟")
    first = dated["citations"][0]
    assert first["published"] == "2017-09-13" and not first["title_derived"]
    assert page.inner_text(f"#citations li[data-n='{first['n']}'] time.cite-date") == "2017-09-13"
    screenshot(page, "derived-title-and-date")


def _watch(page: Page, origin: str) -> tuple[list[str], list[str]]:
    """Abort and record every request that leaves `origin`; record every CSP violation the console reports."""
    outside: list[str] = []
    violations: list[str] = []

    def route(r: Route) -> None:
        if r.request.url.startswith(origin):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    return outside, violations


def test_api_docs_render_offline_from_the_package(page: Page, server: LiveServer) -> None:
    outside, violations = _watch(page, server.url)
    response = page.goto(f"{server.url}/docs")
    assert response is not None and "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Isnad" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() >= 8  # every operation is listed
    assert outside == [] and violations == []
    screenshot(page, "api-docs-offline")


def test_chat_page_works_under_its_content_security_policy(page: Page, server: LiveServer) -> None:
    outside, violations = _watch(page, server.url)
    response = page.goto(server.url)
    assert response is not None
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    body = ask(page, server.url, "When did the eighth round of the Astana talks take place?")
    assert body["citations"] and page.locator("#answer button.citation-marker").count() == len(body["citations"])
    assert outside == [] and violations == []
