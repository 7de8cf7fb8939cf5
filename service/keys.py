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
import secrets
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

Scope = Literal["read", "write"]
SCOPES: tuple[Scope, ...] = ("read", "write")
KEY_PREFIX = "isnad_"


class KeyFileError(ValueError):
    """The keys file is unreadable or malformed, or names no such key."""


@dataclass(frozen=True)
class KeyRecord:
    id: str
    scope: Scope
    hash: str  # sha256 hex of the key
    created: str  # ISO 8601, UTC
    label: str | None = None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def load(path: Path) -> list[KeyRecord]:
    """The keys in `path`; a missing file has none."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        records = [KeyRecord(**entry) for entry in data["keys"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"keys file {path} is unreadable or malformed: {exc}") from exc
    for r in records:
        if r.scope not in SCOPES:
            raise KeyFileError(f"keys file {path}: key {r.id} has unknown scope {r.scope!r}")
    return records


def save(path: Path, records: list[KeyRecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"keys": [asdict(r) for r in records]}, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)  # hashes only, but nobody else needs to read them
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add(path: Path, scope: Scope, label: str | None = None, now: datetime | None = None) -> tuple[KeyRecord, str]:
    """Create a key; returns its record and the key itself, which is shown once and never stored."""
    if scope not in SCOPES:
        raise KeyFileError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    records = load(path)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    taken = {r.id for r in records}
    key_id = next(i for i in (secrets.token_hex(4) for _ in range(100)) if i not in taken)
    created = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    record = KeyRecord(id=key_id, scope=scope, hash=hash_key(key), created=created, label=label)
    save(path, [*records, record])
    return record, key


def revoke(path: Path, key_id: str) -> KeyRecord:
    records = load(path)
    gone = [r for r in records if r.id == key_id]
    if not gone:
        raise KeyFileError(f"no key with id {key_id!r} in {path}")
    save(path, [r for r in records if r.id != key_id])
    return gone[0]


def verify(records: list[KeyRecord], key: str) -> Scope | None:
    """The scope `key` grants, or None. Every stored hash is compared: no early exit (see module doc)."""
    presented = hash_key(key).encode()
    found: Scope | None = None
    for r in records:
        if hmac.compare_digest(presented, r.hash.encode()) and found is None:
            found = r.scope
    return found


def allows(granted: Scope | None, needed: Scope) -> bool:
    """Write implies read."""
    return granted == "write" or (granted == "read" and needed == "read")
