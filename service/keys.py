"""API keys with a scope (read, or write which implies read), kept as a JSON file of hashed keys.

Only a key's sha256 is stored. A fast hash is enough here: keys are 32 random bytes (`secrets`), so there is
no dictionary to brute-force and a slow password hash would only slow every request. `verify` compares the
presented key's hash with every stored hash using hmac.compare_digest and never exits early, so an unknown key
and a wrong one take the same time. Writes go to a temporary file and `os.replace`, so a reader (a running
server) never sees half a file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

Scope = Literal["read", "write"]
SCOPES: tuple[Scope, ...] = ("read", "write")
KEY_PREFIX = "isnad_"
# A collection's name: it appears in URLs (/collections/{name}/...) and in keys files.
COLLECTION_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
COLLECTION_NAME_RULE = "lowercase letters, digits, '_' and '-', starting with a letter or digit, at most 40"


class KeyFileError(ValueError):
    """The keys file is unreadable or malformed, or names no such key."""


@dataclass(frozen=True)
class KeyRecord:
    id: str
    scope: Scope
    hash: str  # sha256 hex of the key
    created: str  # ISO 8601, UTC
    label: str | None = None
    # The collections this key reads (or writes); None: all of them, as every key before collections did.
    collections: tuple[str, ...] | None = None

    def holds(self, collection: str) -> bool:
        return self.collections is None or collection in self.collections


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def load(path: Path) -> list[KeyRecord]:
    """The keys in `path`; a missing file has none."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        records = [KeyRecord(**{**entry, "collections": _names(entry.get("collections"))}) for entry in data["keys"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"keys file {path} is unreadable or malformed: {exc}") from exc
    for r in records:
        if r.scope not in SCOPES:
            raise KeyFileError(f"keys file {path}: key {r.id} has unknown scope {r.scope!r}")
    return records


def _names(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"collections must be a list of names, not {value!r}")
    return tuple(value)


def save(path: Path, records: list[KeyRecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"keys": [_as_json(r) for r in records]}, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)  # hashes only, but nobody else needs to read them
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _as_json(record: KeyRecord) -> dict[str, object]:
    """A key of all collections is written as before collections existed (no `collections` field)."""
    data = asdict(record)
    if record.collections is None:
        del data["collections"]
    else:
        data["collections"] = list(record.collections)
    return data


def add(path: Path, scope: Scope, label: str | None = None, now: datetime | None = None,
        collections: Sequence[str] | None = None) -> tuple[KeyRecord, str]:
    """Create a key; returns its record and the key itself, which is shown once and never stored.

    `collections`: the only collections it reads (or writes); None or empty: all of them."""
    if scope not in SCOPES:
        raise KeyFileError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    names = tuple(dict.fromkeys(collections)) if collections else None
    for name in names or ():
        if not COLLECTION_NAME.fullmatch(name):
            raise KeyFileError(f"collection name {name!r} is not valid: {COLLECTION_NAME_RULE}")
    records = load(path)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    taken = {r.id for r in records}
    key_id = next(i for i in (secrets.token_hex(4) for _ in range(100)) if i not in taken)
    created = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    record = KeyRecord(id=key_id, scope=scope, hash=hash_key(key), created=created, label=label, collections=names)
    save(path, [*records, record])
    return record, key


def revoke(path: Path, key_id: str) -> KeyRecord:
    records = load(path)
    gone = [r for r in records if r.id == key_id]
    if not gone:
        raise KeyFileError(f"no key with id {key_id!r} in {path}")
    save(path, [r for r in records if r.id != key_id])
    return gone[0]


def match(records: list[KeyRecord], key: str) -> KeyRecord | None:
    """The record of `key`, or None. Every stored hash is compared: no early exit (see module doc)."""
    presented = hash_key(key).encode()
    found: KeyRecord | None = None
    for r in records:
        if hmac.compare_digest(presented, r.hash.encode()) and found is None:
            found = r
    return found


def verify(records: list[KeyRecord], key: str) -> Scope | None:
    """The scope `key` grants, or None."""
    record = match(records, key)
    return record.scope if record is not None else None


def allows(granted: Scope | None, needed: Scope) -> bool:
    """Write implies read."""
    return granted == "write" or (granted == "read" and needed == "read")
