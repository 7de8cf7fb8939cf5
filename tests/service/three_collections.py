"""Three collections cut from the sample corpus with the real model, and what each must never show another's key.

`wirefeed` and `probex9` each carry a copy of a `pubarchive` article under their own doc_id and headline (a
wire story on another site), so copies (`also_reported_by`) cross collections; `probex9` also has a memo
whose figure differs from the public archive's, for the differing figures across collections.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from isnad.indexer.embed import Embedder
from isnad.indexer.index import Index
from isnad.indexer.pipeline import make_builder
from isnad.indexer.types import RawDocument
from tests.conftest import CORPUS

NAMES = ("pubarchive", "wirefeed", "probex9")
MEMO = ("عقدت الجولة التاسعة من محادثات أستانة في العاصمة الكازاخية بمشاركة 412 مندوبا، وفق مذكرة داخلية لم تنشر. "
        "وقالت المذكرة إن الوفود ناقشت خرائط مناطق خفض التصعيد وآلية مراقبة وقف إطلاق النار.")


def _article(stem: str, doc_id: str | None = None) -> RawDocument:
    path = CORPUS / f"{stem}.txt"
    doc_id = doc_id or stem
    return RawDocument(doc_id=doc_id, text=path.read_text(encoding="utf-8"), path=str(path), title=f"H-{doc_id}")


def documents() -> dict[str, list[RawDocument]]:
    stems = sorted(p.stem for p in CORPUS.glob("*.txt"))
    assert len(stems) >= 5, stems
    return {
        "pubarchive": [_article(stems[0]), _article(stems[1])],
        "wirefeed": [_article(stems[2]), _article(stems[3]), _article(stems[0], "wire-copy-0")],
        "probex9": [_article(stems[4]), _article(stems[1], "probe-copy-1"),
                    RawDocument(doc_id="probe-memo", text=MEMO, path="memo", title="H-probe-memo")],
    }


def build(folder: Path, embedder: Embedder) -> dict[str, Path]:
    out = {}
    for name, docs in documents().items():
        out[name] = folder / name
        make_builder(embedder, progress=False).run(docs, out[name])
    return out


@dataclass(frozen=True)
class Secrets:
    """Strings that name or quote a collection: its name, doc_ids, headlines, and the passages no other
    collection holds."""

    by_name: dict[str, frozenset[str]]

    @classmethod
    def of(cls, folders: dict[str, Path]) -> Secrets:
        indexes = {name: Index.load(path) for name, path in folders.items()}
        texts = {name: "\n".join(d.text for d in index.documents.values()) for name, index in indexes.items()}
        out = {}
        for name, index in indexes.items():
            others = "\n".join(t for n, t in texts.items() if n != name)
            found = {name} | set(index.documents)
            found |= {d.title for d in index.documents.values() if d.title}
            found |= {c.text for c in index.chunks if len(c.text) >= 40 and c.text not in others}
            out[name] = frozenset(found)
        return cls(out)

    def leaked(self, body: str, hidden: set[str]) -> list[str]:
        """The secrets of the `hidden` collections found in `body` (a JSON body: unescaped before matching)."""
        return [s[:60] for name in hidden for s in self.by_name[name] if s in body]
