"""Documents keep their source (url, site, author, lang) in the index; indexes written before it still load."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from isnad.indexer.index import FORMAT_VERSION, Index, IndexBuilder, IndexLoadError
from isnad.indexer.tables import COLUMNS_FILE
from isnad.indexer.types import RawDocument
from tests.indexer.fake_embedder import HashEmbedder

PAGE = RawDocument(doc_id="page", path="page.html", title="عنوان الخبر", published="2024-01-02",
                   text="أعلنت وزارة الزراعة عن موسم قياسي لحصاد القمح في سهل الغاب هذا العام.",
                   url="https://news.example.org/a", site="أخبار", author="كاتب", lang="ar")
PLAIN = RawDocument(doc_id="plain", path="plain.txt", text="افتتح سوق الخضار الكبير في مدينة حلب أبوابه من جديد.")


def test_source_fields_survive_the_index_and_a_change_rewrites_them(tmp_path: Path) -> None:
    embedder = HashEmbedder()
    IndexBuilder(embedder, progress=False).run([PAGE, PLAIN], tmp_path)
    documents = Index.load(tmp_path).documents
    assert (documents["page"].url, documents["page"].site, documents["page"].author, documents["page"].lang) == \
        ("https://news.example.org/a", "أخبار", "كاتب", "ar")
    assert documents["plain"].url is None and not documents["plain"].summary_only
    embedded = embedder.texts
    moved = replace(PAGE, url="https://news.example.org/b")
    IndexBuilder(embedder, progress=False).run([moved, PLAIN], tmp_path)
    assert Index.load(tmp_path).documents["page"].url == "https://news.example.org/b"
    assert embedder.texts > embedded  # the changed record is rewritten (its text is embedded again)


def test_a_plain_document_keeps_the_hash_older_indexes_recorded() -> None:
    from isnad.indexer.clean import Cleaner

    document = Cleaner().run(PLAIN)
    assert document.content_hash == replace(document, url=None, site=None).content_hash
    assert document.content_hash != replace(document, url="https://x.example/").content_hash


def test_an_index_of_format_version_1_still_loads(tmp_path: Path) -> None:
    IndexBuilder(HashEmbedder(), progress=False).run([PLAIN], tmp_path / "new")
    old = Path(shutil.copytree(tmp_path / "new", tmp_path / "old"))
    manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION == 2
    (old / "manifest.json").write_text(json.dumps({**manifest, "format_version": 1}), encoding="utf-8")
    (old / manifest["data"] / COLUMNS_FILE).unlink()  # and from its JSONL files, as the oldest ones
    index = Index.load(old)
    assert index.documents["plain"].url is None and len(index.chunks) == 1
    (old / "manifest.json").write_text(json.dumps({**manifest, "format_version": 3}), encoding="utf-8")
    with pytest.raises(IndexLoadError, match="format version 3, this Isnad reads versions 1, 2"):
        Index.load(old)
