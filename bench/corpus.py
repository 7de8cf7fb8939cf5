"""Benchmark corpora: the bundled sample, the XQuAD Arabic paragraphs, and generated Arabic-like documents."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from isnad.indexer.read import FolderReader
from isnad.indexer.types import RawDocument

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "astana"
XQUAD = ROOT.parent / "shared" / "eval" / "xquad_en2ar"
_WORD = re.compile(r"[\u0600-\u06FF]+")
# Used when XQuAD is absent: questions that the sample corpus answers, in both languages.
FALLBACK_QUERIES = ("متى عقدت الجولة الثامنة؟", "what did round four agree?", "مناطق خفض التصعيد",
                    "who attended the Astana talks?", "ما هي الدول الضامنة؟", "وقف إطلاق النار في سوريا")
# Questions the sample articles answer, written for the bench (not the dev questions): /ask reads passages for
# these, where XQuAD's questions, off-topic for the sample archive, stop at the topic gate.
SAMPLE_QUESTIONS = (
    "متى انعقدت الجولة الثامنة من مفاوضات أستانا؟",
    "When did the eighth round of the Astana talks take place?",
    "ما هي الدول الضامنة لاتفاق خفض التصعيد؟",
    "Which countries sponsor the Astana talks?",
    "على ماذا اتفقت الجولة الرابعة من محادثات أستانا؟",
    "What did the fourth round agree on?",
    "من ترأس وفد المعارضة في أستانا؟",
    "Where were the Syria talks held?",
)


def sample_documents() -> list[RawDocument]:
    return list(FolderReader(SAMPLE).run().documents)


def xquad_documents(path: Path = XQUAD / "corpus.jsonl") -> list[RawDocument] | None:
    """The 240 XQuAD paragraphs as documents, or None when ../shared is not there."""
    if not path.is_file():
        return None
    docs = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            docs.append(RawDocument(doc_id=rec["_id"], text=rec["text"], path=str(path),
                                    title=rec.get("title", "").replace("_", " ") or None))
    return docs


def queries(limit: int = 60) -> list[str]:
    """Real questions, alternating Arabic and English (XQuAD when present, else built-in ones)."""
    path = XQUAD / "queries.jsonl"
    if not path.is_file():
        return list(FALLBACK_QUERIES)
    out: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i % 20:  # spread over the whole file
                continue
            rec = json.loads(line)
            out += [rec["question_ar"], rec["question_en"]]
            if len(out) >= limit:
                break
    return out


def vocabulary(documents: Sequence[RawDocument]) -> list[str]:
    return [w for d in documents for w in _WORD.findall(d.text)]


class ArabicLikeGenerator:
    """Documents made of real corpus words recombined at random: Arabic script, realistic lengths.

    Paragraphs of ~60-110 words (about one 800-char chunk each), 2-6 per document, dates 2017-2019,
    and one "round" phrase in some paragraphs so round filters and boosts have work to do.
    """

    def __init__(self, words: Sequence[str], seed: int = 0) -> None:
        if not words:
            raise ValueError("need a vocabulary")
        self.words = np.asarray(words, dtype=object)
        self.rng = np.random.default_rng(seed)

    def document(self, doc_id: str) -> RawDocument:
        rng = self.rng
        paragraphs = []
        for _ in range(int(rng.integers(2, 7))):
            words = self.words[rng.integers(0, len(self.words), int(rng.integers(60, 110)))]
            sentences = [" ".join(words[i : i + 15]) + "." for i in range(0, len(words), 15)]
            if rng.random() < 0.2:
                sentences.append(f"الجولة {int(rng.integers(1, 15))} من محادثات أستانا.")
            paragraphs.append(" ".join(sentences))
        title = " ".join(self.words[rng.integers(0, len(self.words), 6)])
        published = f"{int(rng.integers(2017, 2020))}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
        return RawDocument(doc_id=doc_id, text="\n\n".join(paragraphs), path="<generated>", title=title,
                           published=published, source="generated")


def synthetic_vectors(real: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors shaped like the real ones: mean + mixes of two real deviations + per-dimension noise.

    e5 vectors sit in a narrow cone (cosines mostly 0.7-0.9); uniform random vectors would make search
    look easier (and recall look better) than it is, so the synthetic ones keep the cone.
    """
    rng = np.random.default_rng(seed)
    mean = real.mean(axis=0)
    dev = real - mean
    std = dev.std(axis=0)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    step = 100_000
    for lo in range(0, n, step):
        m = min(step, n - lo)
        i, j = rng.integers(0, len(real), m), rng.integers(0, len(real), m)
        a = rng.uniform(0.3, 0.8, (m, 1)).astype(np.float32)
        v = mean + a * dev[i] + (1 - a) * dev[j] + 0.7 * std * rng.standard_normal((m, real.shape[1]))
        out[lo : lo + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out
