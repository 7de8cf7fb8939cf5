"""Calibrate the reader as the service uses it: per question, the best of the passages it reads, with the
int8 runtime that serves it. Fitted on the dev split only (train-reader's split), then written into the
reader file's metadata.

For each dev question (up to DEV_PER_SOURCE per source and language) the reader reads its paragraph's
chunks, intact and with the answer sentence removed
(the passages retrieval would give when the archive covers the topic). Label: 1 when the best passage's
span lies in a sentence holding a gold answer (what `confidence` promises), 0 for every answer-removed case.
Platt scaling maps the best passage's probability to that; the bar is the lowest one keeping false
abstention on intact dev questions at or under `max_false_abstention`.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from isnad.eval.metrics import contains_answer
from isnad.eval.reader_train.data import answer_removed_text, build_chunks, dev_sample, load_questions
from isnad.indexer.reader.calibration import fit_platt
from isnad.indexer.reader.runtime import OnnxReader
from isnad.indexer.reader.weights import ReaderWeights
from isnad.indexer.text.sentences import sentence_spans

MAX_FALSE_ABSTENTION = 0.05
READ = 3  # passages per question, as the service reads
DEV_PER_SOURCE = 300  # dev questions per source and language (`dev_sample`)


def _best(reader: OnnxReader, question: str, passages: list[str]) -> tuple[float, str]:
    """(raw probability of the best passage, the sentence around its span)."""
    readings = reader.read(question, passages)
    best = max(readings, key=lambda r: r.probability)
    text = passages[best.passage]
    around = [(s, e) for s, e in sentence_spans(text) if s < max(best.end, best.start + 1) and best.start < e]
    sentence = text[around[0][0] : around[-1][1]] if around else text
    return best.probability, sentence


def calibrate_reader(path: Path, reading: Path, log: callable = print,
                     max_false_abstention: float = MAX_FALSE_ABSTENTION) -> dict:
    reader = OnnxReader(path)
    reader.weights = dataclasses.replace(reader.weights, platt=(1.0, 0.0))  # raw logits in, raw sigmoid out
    questions, _ = load_questions(reading)
    scores, labels, intact = [], [], []
    for q in dev_sample(questions, DEV_PER_SOURCE):
        a = q.answer[0]
        chunks = build_chunks(q.paragraph)
        holding = next((i for i, (s, e) in enumerate(chunks) if s <= a < e), 0)
        lo = max(0, min(holding - 1, len(chunks) - READ))
        p, sentence = _best(reader, q.question, [q.paragraph[s:e] for s, e in chunks[lo : lo + READ]])
        scores.append(p)
        labels.append(float(contains_answer(sentence, q.answers)))
        intact.append(True)
        removed = answer_removed_text(q.paragraph, q.answer, q.answers)
        if removed is not None:
            rchunks = build_chunks(removed)
            p, _ = _best(reader, q.question, [removed[s:e] for s, e in rchunks[:READ]])
            scores.append(p)
            labels.append(0.0)
            intact.append(False)
    x = np.log(np.clip(scores, 1e-6, 1 - 1e-6) / (1 - np.clip(scores, 1e-6, 1 - 1e-6)))  # back to logits
    y, on = np.array(labels), np.array(intact)
    platt = fit_platt(x, y)
    calibrated = 1 / (1 + np.exp(-(platt[0] * x + platt[1])))
    ordered = np.sort(calibrated[on])
    threshold = float(ordered[math.floor(max_false_abstention * len(ordered))])
    answered_removed = float(np.mean(calibrated[~on] >= threshold))
    # The file's logit -> probability map composes the window's Platt (a1, b1) with this one (a2, b2).
    a1, b1 = ReaderWeights.load(path).platt
    composed = (platt[0] * a1, platt[0] * b1 + platt[1])
    report = {"dev_questions": int(on.sum()), "dev_removed": int((~on).sum()), "platt": list(composed),
              "threshold": threshold, "dev_false_abstention": float(np.mean(calibrated[on] < threshold)),
              "dev_removed_answered": answered_removed, "dev_correct_share": float(y[on].mean())}
    weights = ReaderWeights.load(path)
    weights = dataclasses.replace(weights, platt=composed, threshold=threshold,
                                  report={**weights.report, "question_calibration": report})
    weights.save(path)
    log(f"calibrated on dev: {report}")
    return report
