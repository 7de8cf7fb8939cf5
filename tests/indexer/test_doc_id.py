"""One doc_id rule for the API and the folder reader: NFKC-stable, no invisible or look-alike characters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from isnad.indexer.read import FolderReader, doc_id_problem
from isnad.service.api.routes.documents import DocumentIn

VALID = ["abc", "a-b_c.1", "_x", "أستانا", "مقال_٣", "x" * 200]
INVALID = {
    "a\u200db": "invisible",  # zero-width joiner
    "a\u200cb": "invisible",  # zero-width non-joiner
    "a\u200bb": "invisible",  # zero-width space
    "ab\u200f": "invisible",  # right-to-left mark
    "\u0301ab": "combining mark",  # combining acute accent at the start
    "e\u0301x": "combining mark",  # decomposed é
    "x\u0301": "combining mark",  # a mark with no precomposed letter (NFKC-stable, still a mark)
    "م\u064eقال": "combining mark",  # Arabic fatha
    "ＡＢＣ": "NFKC",  # fullwidth letters look like ABC
    "ﬁle": "NFKC",  # the fi ligature
    "x²": "NFKC",
    "أستـانا": "letters",  # tatweel stretches a word invisibly
    "a\u00a0b": "space",
    "a b": "space",
    "a/b": "letters",
    "a..b": "'..'",
    "-ab": "start",
    "": "empty",
    "x" * 201: "at most 200",
}


@pytest.mark.parametrize("doc_id", VALID)
def test_valid_ids(doc_id: str) -> None:
    assert doc_id_problem(doc_id) is None


@pytest.mark.parametrize(("doc_id", "needle"), INVALID.items())
def test_invalid_ids_name_the_problem(doc_id: str, needle: str) -> None:
    problem = doc_id_problem(doc_id)
    assert problem is not None and needle in problem, problem


@pytest.mark.parametrize("doc_id", [*VALID, *INVALID])
def test_api_and_folder_reader_agree(tmp_path: Path, doc_id: str) -> None:
    """Before: the API's schema pattern (Rust regex: \\w includes marks and joiners) took 'a\u200db'."""
    (tmp_path / "docs.jsonl").write_text(json.dumps({"id": doc_id, "text": "نص المقال."}) + "\n"
                                         + json.dumps({"id": "anchor", "text": "نص آخر."}) + "\n", encoding="utf-8")
    read = {d.doc_id for d in FolderReader(tmp_path).run().documents}
    try:
        DocumentIn(id=doc_id, text="نص المقال.")
        api_accepts = True
    except ValidationError:
        api_accepts = False
    assert api_accepts == (doc_id in read) == (doc_id_problem(doc_id) is None)


def test_folder_reader_names_the_problem_for_a_file_name(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("نص.", encoding="utf-8")
    (tmp_path / "a\u200db.txt").write_text("نص.", encoding="utf-8")
    result = FolderReader(tmp_path).run()
    assert [d.doc_id for d in result.documents] == ["ok"]
    assert "U+200D ZERO WIDTH JOINER" in result.skipped[0].reason
