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
