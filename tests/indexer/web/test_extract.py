"""Extraction on the shared Arabic news pages (../shared/corpus/web/html beside the repo)."""

from __future__ import annotations

import gzip
import json
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

from isnad.eval.extraction import boilerplate_lines
from isnad.indexer.types import Document
from isnad.indexer.web import Skipped, canonical_url, extract_page, read_feed
from isnad.indexer.web.extract import Article, extract_article

PAGES = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "web" / "html"
if not PAGES.is_dir():
    PAGES = Path("/work/shared/corpus/web/html")
needs_pages = pytest.mark.skipif(not (PAGES / "expected.json").is_file(), reason="shared web corpus not present")
# Furniture each page is known to carry (comment rules, a privacy notice above the comment box, a dateline).
KNOWN_FURNITURE = {
    "sputnik-2020-03-17.html": ("إدارة الموقع", "التعليق"),
    "cnn-arabic-2013-08-03.html": ("سياسة الخصوصية", "الآراء الواردة أدناه"),
    "almadenahnews-2020-04-24.html": ("تم نشره",),
}


def _fold(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def _expected() -> dict[str, dict[str, str]]:
    return json.loads((PAGES / "expected.json").read_text(encoding="utf-8")) if PAGES.is_dir() else {}


@needs_pages
@pytest.mark.parametrize("name", sorted(_expected()))
def test_fixture_page_headline_date_url_and_clean_body(name: str) -> None:
    want = _expected()[name]
    doc = extract_page((PAGES / name).read_bytes(), url=want["url"])
    assert isinstance(doc, Document)
    assert _fold(doc.title) == _fold(want["title"])
    assert doc.published == want["published"]
    assert _fold(want["first_sentence"]) in _fold(doc.text)
    assert boilerplate_lines(doc.text) == []
    assert not [s for s in KNOWN_FURNITURE.get(name, ()) if s in doc.text]


@needs_pages
@pytest.mark.parametrize("name", sorted(_expected()))
def test_fixture_page_metadata_without_a_known_url(name: str) -> None:
    """The page alone gives its canonical URL, the site's host and its language."""
    want = _expected()[name]
    article = extract_article((PAGES / name).read_bytes())
    assert isinstance(article, Article)
    assert unquote(article.url or "") == unquote(want["canonical"])
    assert article.site == want["site"].removeprefix("www.")
    assert article.lang == "ar"  # beirutobserver declares en-US


@needs_pages
def test_a_windows_1256_copy_extracts_the_same() -> None:
    name = "youm7-2020-08-24.html"
    want = _expected()[name]
    html = (PAGES / name).read_text(encoding="utf-8").replace("charset=utf-8", "charset=windows-1256")
    doc = extract_page(html.encode("cp1256", errors="xmlcharrefreplace"), url=want["url"])
    assert isinstance(doc, Document)
    assert (_fold(doc.title), doc.published) == (_fold(want["title"]), want["published"])
    assert _fold(want["first_sentence"]) in _fold(doc.text)


@needs_pages
@pytest.mark.parametrize(("declared", "encoding"), [("windows-1256", "utf-8"), ("iso-8859-1", "cp1256")])
def test_a_label_that_cannot_be_right_is_overruled(declared: str, encoding: str) -> None:
    """UTF-8 bytes labelled windows-1256; windows-1256 bytes labelled Latin-1 (both decode without error)."""
    name = "youm7-2024-05-13.html"
    want = _expected()[name]
    html = (PAGES / name).read_text(encoding="utf-8").replace("charset=utf-8", f"charset={declared}")
    doc = extract_page(html.encode(encoding, errors="xmlcharrefreplace"), url=want["url"], http_charset=declared)
    assert isinstance(doc, Document)
    assert _fold(doc.title) == _fold(want["title"]) and _fold(want["first_sentence"]) in _fold(doc.text)


@needs_pages
def test_a_page_lying_about_its_charset_is_detected() -> None:
    name = "alyaum-2020-12-01.html"
    want = _expected()[name]
    html = (PAGES / name).read_text(encoding="utf-8")
    doc = extract_page(html.encode("cp1256", errors="xmlcharrefreplace"), url=want["url"])  # still says utf-8
    assert isinstance(doc, Document)
    assert _fold(want["first_sentence"])[:80] in _fold(doc.text)


BODY = "".join(
    f"<p>{s}</p>" for s in (
        "أعلنت الحكومة اليوم عن خطة جديدة لتطوير شبكة النقل العام في المدن الكبرى خلال السنوات الخمس المقبلة.",
        "وقال المتحدث باسم الوزارة إن الخطة تشمل إنشاء خطوط جديدة للحافلات الكهربائية وتوسيع شبكة القطارات.",
        "وأضاف أن التمويل سيأتي من الموازنة العامة ومن شراكات مع القطاع الخاص، على أن يبدأ التنفيذ العام المقبل.",
        "ويتوقع الخبراء أن تخفف الخطة من الازدحام المروري وأن تقلل من انبعاثات الكربون في العاصمة.",
    )
)


def _page(head: str = "", inside: str = "", after: str = "", h1: str = "<h1>خطة جديدة لتطوير النقل العام</h1>",
          lang: str = "ar") -> bytes:
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}</head><body>'
            f"<header><nav><a href='/'>الرئيسية</a></nav></header><main><article>{h1}"
            f"<div class='article-body'>{BODY}{inside}</div>{after}</article></main></body></html>").encode()


def _article(data: bytes, url: str | None = "https://news.example.com/a/1") -> Article:
    article = extract_article(data, url=url)
    assert isinstance(article, Article), article
    return article


def test_site_affix_cut_by_the_name_the_site_gives_itself() -> None:
    head = ("<title>خطة جديدة لتطوير النقل العام | أخبار المثال</title>"
            "<meta property='og:site_name' content='أخبار المثال'>")
    assert _article(_page(head, h1="")).title == "خطة جديدة لتطوير النقل العام"


def test_headline_is_the_title_part_the_page_shows_as_h1() -> None:
    head = "<meta property='og:title' content='أخبار المثال - خطة جديدة لتطوير النقل العام'>"
    article = _article(_page(head, h1="<h1>أخبار المثال</h1><h1>خطة جديدة لتطوير النقل العام</h1>"))
    assert article.title == "خطة جديدة لتطوير النقل العام"


def test_headline_the_title_sources_agree_on() -> None:
    head = ("<meta property='og:title' content='خطة جديدة لتطوير النقل العام - موقع بلا اسم معلن'>"
            "<meta name='twitter:title' content='خطة جديدة لتطوير النقل العام'>")
    assert _article(_page(head, h1="")).title == "خطة جديدة لتطوير النقل العام"


def test_a_section_name_in_an_h1_is_not_the_headline() -> None:
    head = ("<title>خطة جديدة لتطوير النقل العام في المدن الكبرى - اقتصاد - أخبار المثال</title>"
            "<meta property='og:site_name' content='أخبار المثال'>")
    title = _article(_page(head, h1="<h1>اقتصاد</h1>")).title
    assert title == "خطة جديدة لتطوير النقل العام في المدن الكبرى - اقتصاد"


def test_a_separator_inside_the_headline_is_kept() -> None:
    title = "الحكومة - خطة جديدة لتطوير النقل العام"
    head = f"<title>{title} - أخبار المثال</title><meta property='og:site_name' content='أخبار المثال'>"
    assert _article(_page(head, h1=f"<h1>{title}</h1>")).title == title


def test_privacy_notice_and_comment_rules_popup_are_pruned() -> None:
    notice = ("<div><p>نرحب بتعليقاتكم، ويمكن استخدام مشاركاتك وفق <a href='/privacy.html'>سياسة الخصوصية</a> "
              "و<a href='/terms.html'>شروط الاستخدام</a>.</p><p>الآراء الواردة أدناه تعبر عن أصحابها.</p></div>")
    popup = "<div class='modal-window comments-rules'><p>قواعد التعليق: يحذف كل تعليق مسيء.</p></div>"
    text = _article(_page(after=notice + popup)).text
    assert "الآراء الواردة" not in text and "قواعد التعليق" not in text
    assert "الخطة تشمل إنشاء خطوط جديدة" in text


def test_text_around_a_pruned_dialog_and_collapsed_text_stay() -> None:
    inside = ("<p>وتابع الوزير حديثه <span role='dialog'>نافذة الاشتراك</span> مؤكدا أن التنفيذ يبدأ فورا "
              "في جميع المحافظات دون استثناء.</p><div hidden><p>وختم بأن الحكومة ستنشر تقريرا شهريا عن سير "
              "العمل في المشروعات كافة.</p></div>")
    text = _article(_page(inside=inside)).text
    assert "نافذة الاشتراك" not in text and "مؤكدا أن التنفيذ يبدأ فورا" in text
    assert "ستنشر تقريرا شهريا" in text


def test_a_link_to_another_sites_policy_is_content() -> None:
    story = ("<p>ونشرت الشركة <a href='https://other.example.org/privacy'>سياسة الخصوصية الجديدة</a> "
             "بعد انتقادات واسعة من منظمات حماية البيانات الشخصية في أوروبا والمنطقة العربية.</p>")
    assert "سياسة الخصوصية الجديدة" in _article(_page(inside=story)).text


def test_a_layer_holding_most_of_the_page_is_kept() -> None:
    data = _page().replace(b"<main>", b"<main><div class='page-overlay'>").replace(b"</main>", b"</div></main>")
    assert "الخطة تشمل إنشاء خطوط جديدة" in _article(data).text


def test_lead_outside_the_article_body_is_recovered_from_the_description() -> None:
    lead = "قررت الحكومة تخصيص ميزانية إضافية لمشروعات النقل الجماعي في المحافظات كافة هذا العام."
    head = f"<meta name='description' content='{lead[:60]}...'>"
    data = (f'<html lang="ar"><head><meta charset="utf-8">{head}</head><body><h1>النقل العام</h1>'
            f"<div itemprop='description' class='lead'><p>{lead}</p></div>"
            f"<div itemprop='articleBody'>{BODY}</div></body></html>").encode()
    text = _article(data).text
    assert text.startswith(lead)


def test_a_site_wide_description_does_not_bring_in_the_footer() -> None:
    about = "موقع أخبار المثال هو موقع إخباري مستقل يغطي أخبار المنطقة العربية والعالم على مدار الساعة."
    data = _page(f"<meta name='description' content='{about}'>", after=f"<footer><p>{about}</p></footer>")
    assert "موقع إخباري مستقل" not in _article(data).text


def test_json_ld_local_date_wins_over_utc_meta() -> None:
    head = ("<meta property='article:published_time' content='2020-12-24T23:59:50+00:00'>"
            '<script type="application/ld+json">{"@type":"NewsArticle",'
            '"datePublished":"2020-12-25T01:59:50+02:00"}</script>')
    assert _article(_page(head)).published == "2020-12-25"


def test_json_ld_date_of_the_article_not_of_an_embedded_video() -> None:
    head = ('<script type="application/ld+json">{"@graph": [{"@type": "VideoObject", "datePublished": "2019-01-05"},'
            '{"@type": ["NewsArticle"], "datePublished": "2021-06-07T10:00:00+03:00"}]}</script>'
            '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2020-02-02", }</script>')
    assert _article(_page(head)).published == "2021-06-07"
    malformed = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2020-02-02",}</script>'
    assert _article(_page(malformed)).published == "2020-02-02"


def test_url_date_with_a_section_between_year_and_month() -> None:
    assert _article(_page(), url="http://example.com/2013/middle_east/8/3/story/index.html").published == "2013-08-03"


def test_a_copyright_year_is_not_a_publication_date() -> None:
    footer = "<footer><p>© 2013 Example News. All rights reserved.</p></footer>"
    data = _page().replace(b"</main>", f"</main>{footer}".encode())
    assert _article(data).published is None
    doc = extract_page(data, url="https://news.example.com/a/1", fetched="2024-01-02T03:04:05Z")
    assert isinstance(doc, Document) and doc.published == "2024-01-02"


def test_only_named_http_urls_become_the_page_url() -> None:
    head = ("<link rel='canonical' href='javascript:alert(1)'>"
            "<meta property='og:url' content='https://52.16.95.170/a/1'>")
    assert _article(_page(head)).url == "https://news.example.com/a/1"
    assert _article(_page(head), url=None).url is None


def test_a_relative_canonical_is_resolved_and_a_lone_h1_is_the_headline() -> None:
    article = _article(_page("<link rel='canonical' href='/story/7?utm_source=x'>"))
    assert article.url == "https://news.example.com/story/7?utm_source=x"
    assert article.title == "خطة جديدة لتطوير النقل العام"


def test_arabic_text_declared_english_is_arabic() -> None:
    assert _article(_page(lang="en-US")).lang == "ar"


def test_author_without_the_site_name() -> None:
    head = ("<meta name='author' content='Example News; Heba Musa'>"
            "<meta property='og:site_name' content='Example News'>")
    assert _article(_page(head)).author == "Heba Musa"


def test_a_gzipped_page_is_read_and_a_broken_one_named() -> None:
    assert "الخطة تشمل" in _article(gzip.compress(_page())).text
    broken = extract_page(gzip.compress(_page())[:60], url="https://e.com/a")
    assert isinstance(broken, Skipped) and "gzip" in broken.reason


def test_bad_inputs_are_skipped_with_a_reason() -> None:
    assert isinstance(extract_page(b"   "), Skipped)
    assert isinstance(extract_page(bytes(range(256)) * 50), Skipped)
    home = b"<html><body><nav><a href='/a'>a</a><a href='/b'>b</a></nav></body></html>"
    skipped = extract_page(home, url="https://example.com/")
    assert isinstance(skipped, Skipped) and "no article" in skipped.reason


def test_canonical_url_strips_tracking_parameters() -> None:
    assert canonical_url("https://Example.com/a?utm_source=x&id=3") == "https://example.com/a?id=3"
    assert canonical_url("javascript:alert(1)") == "javascript:alert(1)"


def test_feed_items_mark_summary_only() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>a</title><link>https://example.com/a</link><description>s</description></item></channel></rss>"""
    items = read_feed(rss)
    assert [(i.url, i.summary_only) for i in items] == [("https://example.com/a", True)]
