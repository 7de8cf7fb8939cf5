from __future__ import annotations

import json
from pathlib import Path

import pytest

from isnad.indexer.read import FolderReader, ReadError


def test_reads_txt_and_jsonl_and_skips_bad_files(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "good.txt").write_text("مقال عن أستانا.", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "cp1256.txt").write_bytes("محادثات أستانا في كازاخستان".encode("cp1256"))
    (tmp_path / "utf16.txt").write_bytes("الجولة الرابعة".encode("utf-16"))
    (tmp_path / "bom.txt").write_bytes("\ufeffسطر أول\r\nسطر ثان".encode())
    records = [
        {"id": "j1", "title": "عنوان", "published": "2018-05-14", "source": "x", "text": "نص المقال."},
        {"id": "../evil", "text": "x"},
        {"id": "j2", "text": ""},
    ]
    (tmp_path / "batch.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\nnot json\n", encoding="utf-8"
    )
    result = FolderReader(tmp_path).run()
    docs = {d.doc_id: d for d in result.documents}
    assert set(docs) == {"good", "cp1256", "utf16", "bom", "j1"}
    assert docs["cp1256"].text == "محادثات أستانا في كازاخستان"
    assert docs["utf16"].text == "الجولة الرابعة"
    assert docs["bom"].text.startswith("سطر أول")
    assert docs["j1"].title == "عنوان" and docs["j1"].published == "2018-05-14"
    reasons = {Path(s.path.split(":")[0]).name + ":" + s.reason for s in result.skipped}
    assert any(r.startswith("empty.txt:empty") for r in reasons)
    assert any(r.startswith("binary.txt:") for r in reasons)
    assert len([r for r in reasons if r.startswith("batch.jsonl")]) == 3
    assert "empty.txt" in caplog.text  # the warning names the file


def test_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no readable"):
        FolderReader(tmp_path).run()
    with pytest.raises(ReadError, match="not found"):
        FolderReader(tmp_path / "missing")


def test_extensions_match_in_any_case_and_other_files_are_named(tmp_path: Path) -> None:
    """`.TXT`/`.JSONL` were silently ignored while `.HTML` was read; a `.docx` or `.md` vanished unnamed."""
    (tmp_path / "upper.TXT").write_text("مقال بامتداد كبير عن أستانا.", encoding="utf-8")
    (tmp_path / "lines.JSONL").write_text(json.dumps({"id": "j9", "text": "نص من سطر."}, ensure_ascii=False),
                                          encoding="utf-8")
    (tmp_path / "notes.md").write_text("# not an article", encoding="utf-8")
    (tmp_path / "report.docx").write_bytes(b"PK\x03\x04")
    result = FolderReader(tmp_path).run()
    assert {d.doc_id for d in result.documents} == {"upper", "j9"}
    named = {Path(s.path).name: s.reason for s in result.skipped}
    assert set(named) == {"notes.md", "report.docx"}
    assert all("not an article file type" in reason and ".jsonl" in reason and ".warc.gz" in reason
               for reason in named.values())
