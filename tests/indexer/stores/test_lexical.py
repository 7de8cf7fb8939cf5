"""BM25 over real corpus paragraphs: ranking with spelling variants, masks, persistence, edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.stores.lexical import LexicalIndex
from isnad.indexer.text.arabic import tokenize

CORPUS = Path(__file__).resolve().parents[3] / "data" / "astana"


def search(index: LexicalIndex, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
    """A raw query as the searcher sends it: tokenized, then `search_terms`."""
    return index.search_terms(tokenize(query), k, allowed)


@pytest.fixture(scope="module")
def paragraphs() -> list[str]:
    out: list[str] = []
    for path in sorted(CORPUS.glob("*.txt")):
        out += [p.strip() for p in path.read_text(encoding="utf-8").splitlines() if len(p.strip()) > 40]
    return out


@pytest.fixture(scope="module")
def index(paragraphs: list[str]) -> LexicalIndex:
    return LexicalIndex.build(paragraphs)


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("الجوله الرابعه في استانه واربع مناطق", "أسفرت عن اتفاق حدد أربع مناطق خفض تصعيد"),
        ("ماذا يأمل دى مستورا في اكتوبر", "حقيقية ومهمة"),
        ("بوغدانوف استانة 9", "توحيد الجهود الرامية"),
        ("روسيا وتركيا مشاورات ثنائية ومتعددة الأطراف", "روسياوتركيا وإيران، لإجراء مشاورات"),
        ("كم طائرة ستغادر سوريا", "23 طائرة ومروحيتان"),
        ("قاعدة حميميم ملف المعتقلين", "حميميم"),
    ],
)
def test_right_paragraph_first(index: LexicalIndex, paragraphs: list[str], query: str, needle: str) -> None:
    hits = search(index, query, k=5)
    assert hits, query
    assert needle in paragraphs[hits[0][0]]
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_allowed_mask_filters_rows(index: LexicalIndex, paragraphs: list[str]) -> None:
    query = "مناطق خفض التصعيد"
    best = search(index, query, k=3)[0][0]
    allowed = np.ones(len(index), dtype=bool)
    allowed[best] = False
    hits = search(index, query, k=len(index), allowed=allowed)
    assert hits and best not in {r for r, _ in hits}
    assert search(index, query, k=5, allowed=np.zeros(len(index), dtype=bool)) == []
    with pytest.raises(ValueError):
        search(index, query, k=5, allowed=np.ones(3, dtype=bool))


def test_empty_and_unknown_queries(index: LexicalIndex) -> None:
    assert search(index, "", k=5) == []
    assert search(index, "في من على", k=5) == []  # stopwords only
    assert search(index, "xyzzyqwerty", k=5) == []
    assert search(index, "أستانا", k=0) == []


def test_k_limits_results(index: LexicalIndex) -> None:
    assert len(search(index, "أستانا", k=2)) == 2


def test_single_document_and_empty_corpus() -> None:
    one = LexicalIndex.build(["وصل بوتين إلى قاعدة حميميم"])
    assert len(one) == 1
    assert [r for r, _ in search(one, "حميميم", k=3)] == [0]
    assert search(LexicalIndex.build([]), "حميميم", k=3) == []
    blank = LexicalIndex.build(["", "في من"])
    assert len(blank) == 2 and search(blank, "حميميم", k=3) == []


def test_save_load_roundtrip(tmp_path: Path, index: LexicalIndex) -> None:
    index.save(tmp_path)
    assert (tmp_path / "bm25" / "lexical.json").is_file()
    loaded = LexicalIndex.load(tmp_path)
    assert len(loaded) == len(index)
    query = "الجولة التاسعة أستانا"
    assert search(loaded, query, k=5) == search(index, query, k=5)

    empty_dir = tmp_path / "empty"
    LexicalIndex.build([]).save(empty_dir)
    assert len(LexicalIndex.load(empty_dir)) == 0


def test_load_refuses_missing_or_stale(tmp_path: Path, index: LexicalIndex) -> None:
    with pytest.raises(FileNotFoundError):
        LexicalIndex.load(tmp_path / "nothing")
    index.save(tmp_path)
    meta_path = tmp_path / "bm25" / "lexical.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({**meta, "tokenizer_version": -1}), encoding="utf-8")
    with pytest.raises(ValueError, match="tokenizer"):
        LexicalIndex.load(tmp_path)
    meta_path.write_text(json.dumps({**meta, "size": meta["size"] + 1}), encoding="utf-8")
    with pytest.raises(ValueError, match="rows"):
        LexicalIndex.load(tmp_path)
