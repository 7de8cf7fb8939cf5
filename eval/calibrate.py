"""`isnad eval calibrate`: build answerability examples, fit the logistic model, calibrate, write it.

Examples (all from xquad_en2ar, both question languages; nothing from the held-out sets):
- positive: the question asked of the XQuAD index, when the passage of the chosen sentence is from the gold
  paragraph and contains a gold answer (questions whose evidence misses the answer are left out: unlabelled);
- negative "off": the same question asked of the sample (Astana) index, which holds no answer to it;
- negative "removed": the question asked of the XQuAD index with its gold paragraph taken out, when what is
  then cited holds no gold answer.

Split: by article (the paragraph's title), sha256(SALT + title) → train (70%) / test (30%), fixed; no article
is in both. The training split fits the model (5-fold cross-validation grouped by article gives the
out-of-fold confidences) and chooses the abstention threshold: the lowest confidence whose out-of-fold
precision reaches TARGET_PRECISION for its language. The test split only measures: ECE and the reliability plot (on the
positive and "off" examples, the distribution the model is trained for) and the answered share by source.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

# the eval's index cache, shared
from isnad.eval.cache import CACHE, DATA, ROOT, MemoQueryEmbedder, cache_folder, vectors_key
from isnad.eval.datasets import Query, load_beir, load_seed
from isnad.eval.metrics import contains_answer
from isnad.indexer.embed import Embedder, make_embedder
from isnad.indexer.pipeline import make_builder
from isnad.service.ask.answerability import FEATURES, MODEL_DIR, Evidence, features, model_file_stem
from isnad.service.ask.answerer import Answerer
from isnad.service.search import Searcher, SearchResponse
from isnad.service.state import open_searcher

SALT = "isnad-answerability-split-v1"
TRAIN_SHARE = 0.7
# Precision of "answered" on the training split's out-of-fold confidences, per question language. English
# questions meet Arabic text on a lower, flatter cosine scale, so at 0.99 the threshold (0.885) abstained on
# 4% of the answerable training questions and ~15% of all on-corpus ones; 0.97 keeps the training split's
# off-corpus answered share at 1.3% (budget 3%). Arabic keeps 0.99 (0.97 would answer 3.4% off-corpus).
TARGET_PRECISION = {"ar": 0.99, "en": 0.97}
# "removed" negatives are collected and reported but not trained on: with them (weight 0.25 or 1) the
# out-of-fold answered share of positives on the training split fell from 0.99 to 0.57 / 0.11 (ar) and from
# 0.91 to 0.17 / 0.03 (en) at the same precision: these features tell an on-topic corpus from an off-topic
# one, not whether one paragraph of an on-topic article holds the fact.
TRAIN_ON_REMOVED = False
L2 = 1.0  # ridge on standardized features (per example count: see fit_logistic)
FOLDS = 5
BACKGROUND_SIZE = 256
N_BINS = 10


def split_of(article: str) -> str:
    h = int(hashlib.sha256((SALT + article).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "train" if h < TRAIN_SHARE else "test"


def fold_of(article: str) -> int:
    return int(hashlib.sha256(("fold" + SALT + article).encode()).hexdigest()[:8], 16) % FOLDS


class DiskQueryEmbedder(MemoQueryEmbedder):
    """Query vectors memoized across runs in one .npz (the first run embeds ~2,400 questions)."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        super().__init__(inner)
        self.path = path
        if path.exists():
            data = np.load(path, allow_pickle=False)
            self._memo.update(zip(data["texts"].tolist(), data["vectors"], strict=True))
        self._saved = len(self._memo)

    def save(self) -> None:
        if len(self._memo) == self._saved:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        texts = list(self._memo)
        np.savez(self.path, texts=np.array(texts), vectors=np.stack([self._memo[t] for t in texts]))
        self._saved = len(texts)


def cached_embedder(inner: Embedder | None = None) -> DiskQueryEmbedder:
    inner = inner or make_embedder()
    return DiskQueryEmbedder(inner, CACHE / f"queries-{model_file_stem(vectors_key(inner))}.npz")


@dataclass(frozen=True)
class Example:
    qid: str
    lang: str
    article: str
    split: str
    source: str  # "on" | "off" | "removed"
    label: int
    x: np.ndarray


@dataclass
class Corpora:
    """The two indexes calibration and the answer protocols ask, and the XQuAD questions."""

    xquad: Searcher
    sample: Searcher
    queries: tuple[Query, ...]
    article_of: dict[str, str]  # XQuAD doc id -> article title


def open_corpora(embedder: Embedder) -> Corpora:
    xq = load_beir(DATA / "xquad_en2ar", "all", "xquad_en2ar")
    seed = load_seed(DATA / "seed_qa.dev.jsonl", ROOT / "data" / "astana")
    searchers = []
    for bench in (xq, seed):
        folder = cache_folder(bench, embedder)
        make_builder(embedder, progress=False).run(bench.documents, folder)
        searchers.append(open_searcher(folder, embedder))
    article_of = {d.doc_id: d.title or d.doc_id for d in xq.documents}
    return Corpora(searchers[0], searchers[1], xq.queries, article_of)


def background_vectors(corpora: Corpora, embedder: Embedder) -> np.ndarray:
    """Passages of training-split articles, every n-th chunk in key order: a fixed, generic background."""
    index = corpora.xquad.index
    texts = [c.text for c in (index.chunks[r] for r in range(len(index.chunks)))
             if split_of(corpora.article_of[c.doc_id]) == "train"]
    step = max(1, len(texts) // BACKGROUND_SIZE)
    return embedder.embed_batch(texts[::step][:BACKGROUND_SIZE], role="passage").astype(np.float32)


def without_doc(searcher: Searcher, question: str, doc_id: str, k: int = 5) -> SearchResponse:
    """The response as if `doc_id` were not in the index (its passages dropped, ranks renumbered)."""
    wide = searcher.search(question, 20)
    kept = [r for r in wide.results if r.chunk.doc_id != doc_id][:k]
    kept = [replace(r, rank=i + 1) for i, r in enumerate(kept)]
    dense = [r.dense_score for r in wide.results if r.chunk.doc_id != doc_id and r.dense_score is not None]
    return replace(wide, results=tuple(kept), best_dense=max(dense) if dense else None)


def collect(corpora: Corpora, background: np.ndarray) -> list[Example]:
    on = Answerer(corpora.xquad, model=False)
    off = Answerer(corpora.sample, model=False)
    out: list[Example] = []
    for q in corpora.queries:
        gold = next(iter(q.relevant_docs))
        article = corpora.article_of[gold]
        split = split_of(article)
        base = q.id.split("#")[0]

        def add(source: str, label: int, evidence: Evidence, base: str = base, article: str = article,
                split: str = split, lang: str = q.lang) -> None:
            out.append(Example(base, lang, article, split, source, label, features(evidence, background)))

        found = on.evidence(on.searcher.search(q.text, 5))
        if found is not None:
            evidence, citations, _ = found
            cited = [c for c in citations if c.text == evidence.sentence]
            if cited and cited[0].chunk.doc_id == gold and contains_answer(cited[0].chunk.text, q.answers):
                add("on", 1, evidence)
        found = off.evidence(off.searcher.search(q.text, 5))
        if found is not None:
            add("off", 0, found[0])
        found = on.evidence(without_doc(on.searcher, q.text, gold))
        if found is not None and not any(contains_answer(c.chunk.text, q.answers) for c in found[1]):
            add("removed", 0, found[0])
    return out


# ------------------------------------------------------------------------------------------ the model


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2,
                 weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """L2-regularized, weighted logistic regression by Newton's method (deterministic; a dozen features)."""
    n, d = x.shape
    weight = np.ones(n) if weight is None else weight
    a = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0  # no penalty on the intercept
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(a @ w, -50, 50)))
        grad = a.T @ (weight * (p - y)) + reg * w
        hess = (a * (weight * p * (1 - p))[:, None]).T @ a + np.diag(reg) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


# Evidence features may only raise confidence: more similarity, more coverage, a type match never make an
# answer less likely. Without this, collinear coverage features took negative weights on XQuAD (whose English
# questions rarely meet the domain lexicon), which then penalized exactly the well-covered questions.
MONOTONE = frozenset({"dense_top", "dense_z", "dense_margin", "bm25_cov_top", "bm25_per_term", "sent_term_cov",
                      "sent_number_cov", "type_match"})


def fit_monotone(x: np.ndarray, y: np.ndarray, l2: float = L2,
                 monotone: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """`fit_logistic`, dropping any evidence feature whose weight comes out negative and refitting (active set).
    `monotone`: which columns may not weigh negative (default: this model's MONOTONE features)."""
    active = np.ones(x.shape[1], dtype=bool)
    monotone = np.array([f in MONOTONE for f in FEATURES]) if monotone is None else monotone
    while True:
        coef_active, b = fit_logistic(x[:, active], y, l2)
        coef = np.zeros(x.shape[1])
        coef[active] = coef_active
        wrong = monotone & active & (coef < 0)
        if not wrong.any():
            return coef, b
        active[np.argmin(np.where(wrong, coef, np.inf))] = False  # the most negative one goes first


def standardize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    return mean, np.where(scale < 1e-9, 1.0, scale)


def _predict(x: np.ndarray, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, b: float) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(((x - mean) / scale) @ coef + b, -50, 50)))


def ece(p: np.ndarray, y: np.ndarray, bins: int = N_BINS) -> float:
    """Expected calibration error over equal-width confidence bins."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return float(total)


def auc(p: np.ndarray, y: np.ndarray) -> float:
    pos, neg = p[y == 1], p[y == 0]
    if not len(pos) or not len(neg):
        return math.nan
    ranks = np.argsort(np.argsort(np.concatenate([pos, neg]))) + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def threshold_for_precision(p: np.ndarray, y: np.ndarray, target: float, weight: np.ndarray | None = None) -> float:
    """Lowest confidence at which answering everything at or above it keeps (weighted) precision >= target."""
    weight = np.ones(len(p)) if weight is None else weight
    order = np.argsort(-p)
    tp = np.cumsum((y * weight)[order])
    precision = tp / np.cumsum(weight[order])
    ok = np.nonzero(precision >= target)[0]
    if not len(ok):
        return 1.0
    return float(p[order][ok[-1]])


@dataclass(frozen=True)
class Fitted:
    lang: str
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    report: dict


def fit_pooled(examples: list[Example], target: dict[str, float] = TARGET_PRECISION) -> dict[str, Fitted]:
    """One model over both languages; a threshold per language from its out-of-fold confidences."""
    train = [e for e in examples if e.split == "train" and _trained_on(e)]
    test_all = [e for e in examples if e.split == "test"]
    x = np.stack([e.x for e in train])
    y = np.array([e.label for e in train], dtype=float)
    folds = np.array([fold_of(e.article) for e in train])
    oof = np.zeros(len(train))
    for f in range(FOLDS):
        m = folds == f
        mean, scale = standardize(x[~m])
        coef, b = fit_monotone((x[~m] - mean) / scale, y[~m])
        oof[m] = _predict(x[m], mean, scale, coef, b)
    mean, scale = standardize(x)
    coef, b = fit_monotone((x - mean) / scale, y)
    p_all = _predict(np.stack([e.x for e in test_all]), mean, scale, coef, b)
    fitted = {}
    for lang in sorted({e.lang for e in train}):
        lm = np.array([e.lang == lang for e in train])
        tm = np.array([e.lang == lang and _trained_on(e) for e in test_all])
        threshold = threshold_for_precision(oof[lm], y[lm], target[lang])
        yt = np.array([e.label for e in test_all], dtype=float)
        report = {
            "train": _counts([e for e in train if e.lang == lang]),
            "test": _counts([e for e in test_all if e.lang == lang]),
            "cv_ece": ece(oof[lm], y[lm]), "cv_auc": auc(oof[lm], y[lm]),
            "test_ece": ece(p_all[tm], yt[tm]), "test_auc": auc(p_all[tm], yt[tm]),
            "test_answered_by_source": {
                s: float(np.mean(p_all[[e.lang == lang and e.source == s for e in test_all]] >= threshold))
                for s in ("on", "off", "removed") if any(e.lang == lang and e.source == s for e in test_all)
            },
        }
        fitted[lang] = Fitted(lang, mean, scale, coef, b, threshold, report)
    return fitted


def _trained_on(example: Example) -> bool:
    return example.source != "removed" or TRAIN_ON_REMOVED


def _counts(examples: list[Example]) -> dict[str, int]:
    return {s: sum(e.source == s for e in examples) for s in ("on", "off", "removed")}


def test_predictions(examples: list[Example], fitted: dict[str, Fitted]) -> tuple[np.ndarray, np.ndarray]:
    test = [e for e in examples if e.split == "test" and e.lang in fitted and _trained_on(e)]
    p = np.array([float(_predict(e.x[None, :], fitted[e.lang].mean, fitted[e.lang].scale, fitted[e.lang].coef,
                                 fitted[e.lang].intercept)[0]) for e in test])
    return p, np.array([e.label for e in test], dtype=float)


def reliability_plot(p: np.ndarray, y: np.ndarray, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idx = np.minimum((p * N_BINS).astype(int), N_BINS - 1)
    centers, acc, counts = [], [], []
    for b in range(N_BINS):
        m = idx == b
        if m.any():
            centers.append(p[m].mean())
            acc.append(y[m].mean())
            counts.append(int(m.sum()))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.plot(centers, acc, "o-", label=f"confidence (ECE {ece(p, y):.3f})")
    for c, a, n in zip(centers, acc, counts, strict=True):
        ax.annotate(str(n), (c, a), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xlabel("confidence")
    ax.set_ylabel("share answerable")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def calibrate(out_dir: Path, model_dir: Path = MODEL_DIR, target: dict[str, float] = TARGET_PRECISION,
              inner: Embedder | None = None) -> dict:
    embedder = cached_embedder(inner)
    corpora = open_corpora(embedder)
    background = background_vectors(corpora, embedder.inner)
    examples = collect(corpora, background)
    embedder.save()
    fitted = fit_pooled(examples, target)
    p, y = test_predictions(examples, fitted)
    reliability_plot(p, y, out_dir / "reliability.png",
                     f"answerability confidence, XQuAD test split (held out of training), n={len(p)}")
    stem = model_file_stem(embedder.model_id)
    model_dir.mkdir(parents=True, exist_ok=True)
    np.save(model_dir / f"{stem}.background.npy", background.astype(np.float16))
    spec = {
        "model_id": embedder.model_id,
        "features": list(FEATURES),
        "split": {"salt": SALT, "train_share": TRAIN_SHARE, "by": "xquad article title",
                  "train_articles": sorted({e.article for e in examples if e.split == "train"})},
        "target_precision": target, "l2": L2, "folds": FOLDS,
        "test_ece": ece(p, y), "test_n": len(p),
        "langs": {
            f.lang: {"mean": f.mean.round(6).tolist(), "scale": f.scale.round(6).tolist(),
                     "coef": f.coef.round(6).tolist(), "intercept": round(f.intercept, 6),
                     "threshold": round(f.threshold, 6), "report": f.report}
            for f in fitted.values()
        },
    }
    (model_dir / f"{stem}.json").write_text(json.dumps(spec, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return spec
