"""Write indexer/text/data/english_words.txt: the commonest English words of pyspellchecker's bundled dictionary (MIT,
derived from OpenSubtitles and other general text), normalized as the bridge normalizes a question's words.

The cross-lingual bridge looks these words' vectors up instead of embedding them at query time
(`indexer/text/english_vectors.py`). Nothing here reads evaluation questions or answers. Regenerate with
`pip download --no-deps pyspellchecker==0.9.1` and `python scripts/english_words.py WHEEL [N]`.
"""

from __future__ import annotations

import gzip
import json
import sys
import zipfile
from pathlib import Path

from isnad.indexer.text.english_vectors import NORMALIZATION, english_word

OUT = Path(__file__).resolve().parent.parent / "indexer" / "text" / "data" / "english_words.txt"


def main(wheel: str, n: int = 30_000) -> None:
    with zipfile.ZipFile(wheel) as z:
        counts: dict[str, int] = json.loads(gzip.decompress(z.read("spellchecker/resources/en.json.gz")))
    words: list[str] = []
    seen: set[str] = set()
    for raw in sorted(counts, key=lambda w: (-counts[w], w)):
        word = english_word(raw)
        if word is not None and word not in seen:
            seen.add(word)
            words.append(word)
        if len(words) == n:
            break
    header = (f"# {len(words)} commonest English words of pyspellchecker 0.9.1's en dictionary (MIT License, "
              f"Copyright (c) 2018-2021 Tyler Barrus), normalization {NORMALIZATION}; scripts/english_words.py\n")
    OUT.write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} words -> {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30_000)
