"""`isnad index` embeds in length-sorted calls (issue 29) and still stores each chunk's own vector."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.index import EMBED_BATCH, Index, IndexBuilder
from isnad.indexer.types import Document, passage_text
from tests.indexer.fake_embedder import HashEmbedder


class RecordingEmbedder(HashEmbedder):
    """Deterministic vectors per text, and the texts of every call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def embed_batch(self, texts: Sequence[str], role: str) -> np.ndarray:
        self.calls.append(list(texts))
        return super().embed_batch(texts, role)


def _documents(n: int) -> list[Document]:
    """Paragraphs of very different lengths in each document, as a real archive has (a one-line lead, long body)."""
    rng = np.random.default_rng(3)
    docs = []
    for d in range(n):
        paragraphs = [" ".join(f"كلمة{d}_{p}_{w}" for w in range(int(rng.integers(3, 120)))) for p in range(6)]
        docs.append(Document(doc_id=f"doc{d}", text="\n\n".join(paragraphs), title=f"عنوان {d}", published=None,
                             source="test"))
    return docs


@pytest.mark.parametrize("window", [4096, 7])
def test_calls_are_length_sorted_and_every_chunk_gets_its_own_vector(tmp_path: Path, window: int) -> None:
    embedder = RecordingEmbedder()
    IndexBuilder(embedder, progress=False, sort_window=window).build(_documents(12), tmp_path / "index")
    index = Index.load(tmp_path / "index")
    texts = [passage_text(c) for c in index.chunks]
    assert len(texts) > 3 * EMBED_BATCH  # several calls
    embedded = [t for call in embedder.calls for t in call]
    assert sorted(embedded) == sorted(texts)  # each chunk embedded once
    assert all(len(call) <= EMBED_BATCH for call in embedder.calls)
    lengths = [len(t) for t in embedded]
    for lo in range(0, len(lengths), window):  # ascending within each window of document order
        assert lengths[lo : lo + window] == sorted(lengths[lo : lo + window])
    if window > len(texts):  # one window: the calls' spread of lengths is small against document order's
        spread = sum(max(map(len, c)) - min(map(len, c)) for c in embedder.calls)
        doc_order = [texts[i : i + EMBED_BATCH] for i in range(0, len(texts), EMBED_BATCH)]
        assert spread < sum(max(map(len, c)) - min(map(len, c)) for c in doc_order) / 3

    stored = index.store.vectors_for([c.key for c in index.chunks])
    np.testing.assert_allclose(stored, HashEmbedder().embed_batch(texts, "passage"), atol=1e-6)


def test_document_order_is_the_default(tmp_path: Path) -> None:
    embedder = RecordingEmbedder()
    IndexBuilder(embedder, progress=False).build(_documents(12), tmp_path / "index")
    texts = [passage_text(c) for c in Index.load(tmp_path / "index").chunks]
    assert [t for call in embedder.calls for t in call] == texts
