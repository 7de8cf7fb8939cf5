"""The folder reader on web archives: saved pages (UTF-8, Windows-1256, gzipped), a WARC.gz, an RSS feed
with links, duplicates and bad inputs, all made from the shared Arabic news pages."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from isnad.indexer.clean import Cleaner
from isnad.indexer.read import FolderReader, ReadResult
from isnad.indexer.read_web import WebDocuments, fragment_text
from isnad.indexer.types import RawDocument
from tests.indexer.web_fixtures import (
    FULL_ITEM_TEXT,
    SUMMARY_ITEM_TEXT,
    cp1256_copy,
    expected,
    feed_with_links,
    fold,
    gzip_bytes,
    needs_pages,
    page_bytes,
    write_warc,
)

pytestmark = needs_pages
NAMES = sorted(expected())
LINKED = NAMES[:3]
CP1256_NAMES = ["alyaum-2020-12-01.html", "sputnik-2020-03-17.html", "youm7-2020-08-24.html"]


def by_file(result: ReadResult) -> dict[str, RawDocument]:
    return {Path(d.path.split("#")[0].split(" ")[0]).name: d for d in result.documents}


@pytest.fixture(scope="module")
def folder_read(tmp_path_factory: pytest.TempPathFactory) -> ReadResult:
    folder = tmp_path_factory.mktemp("pages")
    for name in NAMES:
        (folder / name).write_bytes(page_bytes(name))
    return FolderReader(folder).run()


@pytest.fixture(scope="module")
def warc_read(tmp_path_factory: pytest.TempPathFactory) -> ReadResult:
    folder = tmp_path_factory.mktemp("warc")
    records = [(expected()[name]["url"], page_bytes(name), "text/html; charset=utf-8") for name in NAMES]
    records.append(("https://example.org/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png"))
    write_warc(folder / "crawl.warc.gz", records)
    return FolderReader(folder).run()


@pytest.mark.parametrize("name", NAMES)
def test_headline(folder_read: ReadResult, name: str) -> None:
    assert fold(by_file(folder_read)[name].title) == fold(expected()[name]["title"])


@pytest.mark.parametrize("name", NAMES)
def test_publication_date(folder_read: ReadResult, name: str) -> None:
    assert by_file(folder_read)[name].published == expected()[name]["published"]


@pytest.mark.parametrize("name", NAMES)
def test_url_and_site(folder_read: ReadResult, name: str) -> None:
    doc = by_file(folder_read)[name]
    assert doc.url is not None and unquote(doc.url) == unquote(expected()[name]["canonical"])
    assert urlsplit(doc.url).hostname.removeprefix("www.") == expected()[name]["site"]  # type: ignore[union-attr]
    assert doc.site and doc.lang == "ar"


@pytest.mark.parametrize("name", NAMES)
def test_first_sentence_and_cleaning_is_stable(folder_read: ReadResult, name: str) -> None:
    doc = by_file(folder_read)[name]
    assert fold(expected()[name]["first_sentence"]) in fold(doc.text)
    assert "<" not in doc.text and "\n\n\n" not in doc.text  # extracted text, not markup
    # The builder cleans what the reader gives again: extracted text must come out unchanged, or offsets move
    cleaned = Cleaner().run(doc)
    assert (cleaned.text, cleaned.title, cleaned.url) == (doc.text, doc.title, doc.url)


def test_every_page_is_read_once(folder_read: ReadResult) -> None:
    assert sorted(by_file(folder_read)) == NAMES and folder_read.skipped == ()
    assert len({d.doc_id for d in folder_read.documents}) == len(NAMES)


def test_the_warc_gives_the_same_documents(folder_read: ReadResult, warc_read: ReadResult) -> None:
    """Same ids (canonical URL), text, headline and date as the saved pages; image, request and 404 records
    are not documents."""
    plain = {d.doc_id: d for d in folder_read.documents}
    packed = {d.doc_id: d for d in warc_read.documents}
    assert packed.keys() == plain.keys() and warc_read.skipped == ()
    for doc_id, doc in packed.items():
        assert (doc.text, doc.title, doc.published, doc.url) == (plain[doc_id].text, plain[doc_id].title,
                                                                plain[doc_id].published, plain[doc_id].url)
        assert "crawl.warc.gz#" in doc.path


def test_windows_1256_copies_read_like_the_originals(folder_read: ReadResult, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    for name in CP1256_NAMES:
        (tmp_path / name).write_bytes(cp1256_copy(page_bytes(name)))
    (tmp_path / "gz").mkdir()
    (tmp_path / "gz" / CP1256_NAMES[0].replace(".html", ".htm.gz")).write_bytes(
        gzip_bytes(page_bytes(CP1256_NAMES[0]).replace(b"</title>", b" </title>")))  # a second copy, gzipped
    with caplog.at_level(logging.INFO, logger="isnad.indexer.read"):
        read = FolderReader(tmp_path).run()
    original = by_file(folder_read)
    got = by_file(read)
    assert sorted(got) == CP1256_NAMES  # the gzipped copy is the same article: indexed once
    for name in CP1256_NAMES:
        assert (got[name].title, got[name].published) == (original[name].title, original[name].published)
        assert fold(expected()[name]["first_sentence"]) in fold(got[name].text)
    assert read.skipped == () and read.duplicates == 1
    assert f".htm.gz: duplicate of {tmp_path / CP1256_NAMES[0]} (same URL" in caplog.text


def test_feed_items_match_pages_else_full_content_else_summary(tmp_path: Path) -> None:
    linked = LINKED
    for name in linked:
        (tmp_path / name).write_bytes(page_bytes(name))
    (tmp_path / "news.rss").write_bytes(feed_with_links(linked))
    read = FolderReader(tmp_path).run()
    assert read.skipped == ()
    pages = [d for d in read.documents if d.path.endswith(".html")]
    items = {d.title: d for d in read.documents if "news.rss#item" in d.path}
    assert len(pages) == 3 and set(items) == {"حديقة جديدة في حمص", "موسم قمح وفير في الحسكة"}  # links matched
    full, summary = items["حديقة جديدة في حمص"], items["موسم قمح وفير في الحسكة"]
    assert full.text.split("\n\n")[0] == FULL_ITEM_TEXT.split(". ")[0] + "." and not full.summary_only
    assert (full.published, full.url, full.site) == ("2024-01-02", "https://news.example.org/homs-park",
                                                    "news.example.org")
    assert summary.text == SUMMARY_ITEM_TEXT and summary.summary_only and summary.published == "2024-01-03"


def test_a_feed_inside_a_warc_matches_its_pages(folder_read: ReadResult, tmp_path: Path) -> None:
    linked = LINKED[:2]
    records = [(expected()[n]["url"], page_bytes(n), "text/html") for n in linked]
    records.append(("https://news.example.org/feed", feed_with_links(linked), "application/rss+xml"))
    sitemap = b'<?xml version="1.0"?><urlset><url><loc>https://news.example.org/a</loc></url></urlset>'
    records.append(("https://news.example.org/sitemap.xml", sitemap, "application/xml"))  # no feed, no warning
    write_warc(tmp_path / "crawl.warc.gz", records)
    read = FolderReader(tmp_path).run()
    ids = {d.doc_id for d in read.documents}
    assert {d.doc_id for d in folder_read.documents if Path(d.path).name in linked} <= ids and len(ids) == 4
    assert read.skipped == ()


def test_bad_inputs_are_skipped_or_cleaned_with_named_warnings(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    good, liar, js = NAMES[0], "elbaladtv-2020-12-25.html", CP1256_NAMES[2]  # the liar: minified, one line
    (tmp_path / good).write_bytes(page_bytes(good))
    (tmp_path / "binary.html").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "empty.htm").write_bytes(b"")
    (tmp_path / "home.html").write_bytes("<html><body><nav><a href='/a'>أخبار</a> <a href='/b'>رياضة</a></nav>"
                                         "</body></html>".encode())
    (tmp_path / "broken.rss").write_bytes(b"<?xml version='1.0'?><rss><channel><item><title>x</tit")
    (tmp_path / "config.xml").write_bytes(b"<?xml version='1.0'?><settings><a>1</a></settings>")  # not a feed
    (tmp_path / "liar.html").write_bytes(cp1256_copy(page_bytes(liar), declare="utf-8"))
    canonical = b'<link rel="canonical" href="javascript:alert(1)">'
    (tmp_path / "js.html").write_bytes(page_bytes(js).replace(b"<head>", b"<head>" + canonical, 1))
    (tmp_path / "cut.html.gz").write_bytes(gzip_bytes(page_bytes(good))[:5000])
    records = [(expected()[n]["url"], page_bytes(n), "text/html") for n in [*NAMES[3:5], NAMES[8]]]
    warc = write_warc(tmp_path / "cut.warc.gz", records, not_found=False)
    warc.write_bytes(warc.read_bytes()[:-2000])  # the last page's record loses its end
    with caplog.at_level(logging.WARNING):
        read = FolderReader(tmp_path).run()
    reasons = {Path(s.path.split("#")[0]).name: s.reason for s in read.skipped}
    assert reasons["binary.html"].startswith("binary content")
    assert reasons["empty.htm"] == "empty page"
    assert reasons["home.html"].startswith("no article")
    assert "broken.rss" in reasons  # feedparser reads its one item leniently: with no text, it is skipped
    assert "config.xml" not in reasons  # any XML may be named .xml: no items, no warning
    assert reasons["cut.html.gz"] == "not a readable gzip file (cut off: the stream ends early)"
    assert "truncated" in reasons["cut.warc.gz"] and "Content-Length" in reasons["cut.warc.gz"]
    got = by_file(read)
    assert set(got) == {good, "liar.html", "js.html", "cut.warc.gz"}  # every other file indexed
    from_warc = sorted(unquote(d.url or "") for d in read.documents if "cut.warc.gz#" in d.path)
    assert from_warc == sorted(unquote(expected()[n]["canonical"]) for n in NAMES[3:5])  # the records before the cut
    assert fold(expected()[liar]["first_sentence"]) in fold(got["liar.html"].text)
    assert fold(got["liar.html"].title) == fold(expected()[liar]["title"])
    assert got["js.html"].url is None or got["js.html"].url.startswith("http")
    log = caplog.text
    assert "liar.html: declares charset utf-8, which does not decode it; read as windows-1256" in log
    assert "js.html: canonical link is a javascript: URL" in log
    assert "broken.rss: not well-formed XML (unclosed token" in log


def test_duplicates_by_canonical_url_and_by_text_on_one_site() -> None:
    web = WebDocuments()

    def raw(doc_id: str, url: str | None, text: str, site: str | None = None) -> RawDocument:
        return RawDocument(doc_id=doc_id, text=text, path=f"{doc_id}.html", url=url, site=site)

    assert web.add(raw("a", "https://news.example.org/story?id=3", "نص الخبر الأول")) is None
    again = web.add(raw("b", "https://NEWS.example.org/story?id=3&utm_source=x&ref=home", "نص مختلف"))
    assert again is not None and again.reason.startswith("duplicate of a.html (same URL")
    assert web.add(raw("c", "https://news.example.org/other", "نص الخبر الأول")) is not None  # same site and text
    assert web.add(raw("d", "https://wire.example.com/copy", "نص الخبر الأول")) is None  # a wire story elsewhere
    assert [d.doc_id for d in web.documents()] == ["a", "d"]


def test_fragment_text_keeps_paragraphs() -> None:
    assert fragment_text("<p>الأول.</p><p>الثاني<br>سطر</p>").split("\n\n")[:2] == ["الأول.", "الثاني\nسطر"]
    assert fragment_text("بلا وسوم") == "بلا وسوم"


def test_jsonl_carries_the_source_and_drops_a_javascript_url(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    lines = ['{"id": "a", "text": "نص", "url": "https://x.example/a", "site": "X", "author": "س", "lang": "ar"}',
             '{"id": "b", "text": "نص آخر", "url": "javascript:alert(1)"}']
    (tmp_path / "docs.jsonl").write_text("\n".join(lines), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        docs = {d.doc_id: d for d in FolderReader(tmp_path).run().documents}
    assert (docs["a"].url, docs["a"].site, docs["a"].author, docs["a"].lang) == ("https://x.example/a", "X", "س", "ar")
    assert docs["b"].url is None and "'url' 'javascript:alert(1)' dropped" in caplog.text


def test_copy_of_a_page_under_another_name_is_indexed_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "a.html").write_bytes(page_bytes(NAMES[1]))
    shutil.copy(tmp_path / "a.html", tmp_path / "b.html")
    with caplog.at_level(logging.INFO, logger="isnad.indexer.read"):
        read = FolderReader(tmp_path).run()
    assert [Path(d.path).name for d in read.documents] == ["a.html"]
    assert read.skipped == () and read.duplicates == 1
    assert f"b.html: duplicate of {tmp_path / 'a.html'}" in caplog.text


def test_a_crawl_that_revisits_a_page_indexes_it_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    name = LINKED[0]
    url = expected()[name]["url"]
    write_warc(tmp_path / "crawl.warc.gz", [(url, page_bytes(name), "text/html"),
                                            (url + "?utm_source=twitter&ref=home", page_bytes(name), "text/html")])
    with caplog.at_level(logging.INFO, logger="isnad.indexer.read"):
        read = FolderReader(tmp_path).run()
    assert len(read.documents) == 1 and read.skipped == () and read.duplicates == 1
    assert re.search(r"crawl\.warc\.gz#4 \(\S+utm_source=twitter&ref=home\): duplicate of \S+crawl\.warc\.gz#2 .*"
                     r"\(same URL\); indexed once", caplog.text)


def test_a_latin_page_that_lies_about_its_charset_is_not_read_as_arabic(tmp_path: Path) -> None:
    body = "".join(f"<p>Le conseil municipal a décidé à l'unanimité de rénover la bibliothèque numéro {i}, "
                   f"fermée depuis l'été dernier à cause des dégâts causés par les pluies très fortes.</p>"
                   for i in range(6))
    page = (f'<html><head><meta charset="utf-8"><title>Bibliothèque rénovée à Genève</title></head>'
            f"<body><article><h1>Bibliothèque rénovée à Genève</h1>{body}</article></body></html>")
    (tmp_path / "fr.html").write_bytes(page.encode("latin-1"))
    doc = FolderReader(tmp_path).run().documents[0]
    assert doc.title == "Bibliothèque rénovée à Genève" and "décidé à l'unanimité" in doc.text


def test_a_gzip_bomb_is_not_inflated_whole(tmp_path: Path) -> None:
    (tmp_path / "bomb.html.gz").write_bytes(gzip_bytes(b"<p>" + b" " * 30_000_000 + b"</p>"))
    (tmp_path / LINKED[0]).write_bytes(page_bytes(LINKED[0]))
    read = FolderReader(tmp_path).run()
    assert [s.reason for s in read.skipped] == ["more than 20000000 bytes: too large for one article page"]
