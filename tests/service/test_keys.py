"""The keys file: only hashes are stored, add/revoke round trip, atomic writes, verify by scope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isnad.service import keys


def test_add_stores_only_the_hash_and_verify_grants_its_scope(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    read, read_key = keys.add(path, "read", label="newsroom")
    write, write_key = keys.add(path, "write")
    text = path.read_text(encoding="utf-8")
    assert read_key not in text and write_key not in text
    assert keys.hash_key(read_key) in text
    records = keys.load(path)
    assert [(r.id, r.scope, r.label) for r in records] == [(read.id, "read", "newsroom"), (write.id, "write", None)]
    assert keys.verify(records, read_key) == "read"
    assert keys.verify(records, write_key) == "write"
    assert keys.verify(records, read_key + "x") is None
    assert keys.verify(records, "") is None
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_revoke_removes_the_key(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    record, key = keys.add(path, "read")
    keys.revoke(path, record.id)
    assert keys.verify(keys.load(path), key) is None
    with pytest.raises(keys.KeyFileError, match="no key with id"):
        keys.revoke(path, record.id)


def test_write_implies_read() -> None:
    assert keys.allows("write", "read") and keys.allows("write", "write") and keys.allows("read", "read")
    assert not keys.allows("read", "write") and not keys.allows(None, "read")


def test_a_malformed_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [{"id": "a"}]}), encoding="utf-8")
    with pytest.raises(keys.KeyFileError, match=r"keys\.json"):
        keys.load(path)
    assert keys.load(tmp_path / "missing.json") == []
