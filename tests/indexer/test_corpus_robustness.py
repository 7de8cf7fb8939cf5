"""Messy corpora: legacy encodings, BOM/CRLF, NUL bytes, a huge article, many tiny files, duplicates."""

from __future__ import annotations

import logging
import resource
from pathlib import Path

import pytest
from click.testing import CliRunner

from isnad.cli.main import cli
from isnad.indexer.index import Index
from isnad.indexer.pipeline import make_builder
from isnad.indexer.read import FolderReader
from tests.indexer.fake_embedder import HashEmbedder

ARABIC = "انطلقت في العاصمة الكازاخية أستانا الجولة الرابعة من المحادثات حول سوريا بمشاركة الدول الضامنة."


def _build(corpus: Path, index: Path) -> Index:
    make_builder(HashEmbedder(), progress=False).run(corpus, index)  # type: ignore[arg-type]
    return Index.load(index)


def test_legacy_encodings_are_decoded_or_skipped_with_the_file_named(tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    text = f"{ARABIC}\r\n\r\n{ARABIC[::-1]}"
    (tmp_path / "win1256.txt").write_bytes(text.encode("cp1256"))
    (tmp_path / "u16le-bom.txt").write_bytes(text.encode("utf-16"))
    (tmp_path / "u16le-nobom.txt").write_bytes(text.encode("utf-16-le"))
    (tmp_path / "u16be-nobom.txt").write_bytes(text.encode("utf-16-be"))
    (tmp_path / "latin1.txt").write_bytes("Le café était fermé à Genève".encode("latin-1"))  # not Arabic, not UTF-8
    with caplog.at_level(logging.WARNING):
        result = FolderReader(tmp_path).run()
    docs = {d.doc_id: d.text for d in result.documents}
    assert set(docs) == {"win1256", "u16le-bom", "u16le-nobom", "u16be-nobom"}
    assert all(t.replace("\r", "") == text.replace("\r", "") for t in docs.values())
    assert [Path(s.path).name for s in result.skipped] == ["latin1.txt"]
    assert "latin1.txt" in caplog.text and "Windows-1256" in result.skipped[0].reason


def test_bom_and_crlf_never_reach_the_canonical_text(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes(("\ufeff" + f"{ARABIC}\r\n\r\nفقرة ثانية عن الهدنة.\r\n").encode("utf-8"))
    index = _build(tmp_path, tmp_path / "index")
    doc = index.documents["bom"]
    assert "\r" not in doc.text and "\ufeff" not in doc.text and doc.text.startswith("انطلقت")
    for chunk in index.chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text


def test_nul_bytes_are_dropped_or_the_file_skipped(tmp_path: Path) -> None:
    (tmp_path / "some-nuls.txt").write_bytes(ARABIC.encode("utf-8").replace(b" ", b" \x00", 3))
    (tmp_path / "all-nuls.txt").write_bytes(b"\x00" * 4096)
    (tmp_path / "ok.txt").write_text(ARABIC, encoding="utf-8")
    result = FolderReader(tmp_path).run()
    docs = {d.doc_id: d.text for d in result.documents}
    assert docs["some-nuls"] == ARABIC and "\x00" not in docs["some-nuls"]
    assert [Path(s.path).name for s in result.skipped] == ["all-nuls.txt"]


@pytest.mark.slow
def test_a_10mb_article_indexes_whole_with_bounded_memory(tmp_path: Path) -> None:
    """Uses a fake (hash) embedder: the real model on 10 MB takes far too long on 2 cores. The property under
    test is reading, cleaning, chunking and storing a huge article, not embedding quality."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    paragraphs, size, i = [], 0, 0
    while size < 10_000_000:
        para = f"الفقرة رقم {i}: {ARABIC}"  # numbered so the cleaner's repeat removal keeps them all
        paragraphs.append(para)
        size += len(para.encode()) + 2
        i += 1
    (corpus / "huge.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    index = _build(corpus, tmp_path / "index")  # how long it takes is the benchmark's business, not a test's
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    doc = index.documents["huge"]
    assert len(doc.text.encode()) > 9_500_000 and (doc.title or "").startswith("الفقرة رقم 0:")  # lifted as title
    assert doc.text.count("الفقرة رقم") == i - 1
    assert len(index.chunks) > 1000
    last = index.chunks[-1]
    assert doc.text[last.start : last.end] == last.text
    assert grown_mb < 1500, f"peak memory grew by {grown_mb:.0f} MB"


@pytest.mark.slow
def test_ten_thousand_tiny_files(tmp_path: Path) -> None:
    """Uses a fake (hash) embedder: the property is reading and storing 10,000 files, not embedding."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(10_000):
        (corpus / f"t{n:05d}.txt").write_text(f"خبر قصير رقم {n} عن أستانا.", encoding="utf-8")
    index = _build(corpus, tmp_path / "index")
    assert len(index.documents) == 10_000 and len(index.chunks) == 10_000
    assert "7777" in index.documents["t07777"].text


def test_empty_folder_gets_a_clear_message_and_nonzero_exit(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(cli, ["index", str(empty), "--index", str(tmp_path / "index")])
    assert result.exit_code != 0
    assert "no readable articles (.txt, .jsonl, .html, WARC, RSS/Atom)" in result.output and str(empty) in result.output
    assert not (tmp_path / "index" / "manifest.json").exists()


def test_duplicate_documents_under_two_names_are_both_indexed(tmp_path: Path) -> None:
    (tmp_path / "copy-a.txt").write_text(ARABIC, encoding="utf-8")
    (tmp_path / "copy-b.txt").write_text(ARABIC, encoding="utf-8")
    index = _build(tmp_path, tmp_path / "index")
    assert set(index.documents) == {"copy-a", "copy-b"}
    assert index.documents["copy-a"].text == index.documents["copy-b"].text
    assert {c.doc_id for c in index.chunks} == {"copy-a", "copy-b"} and index.store.count() == len(index.chunks)
