"""Reports: JSON, a Markdown table (rows = configurations), PNG plots, a run history with regression check."""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from isnad.eval.metrics import EvalResult, K
from isnad.indexer.text.script import has_arabic, shape

KEY_METRICS = (
    "recall@1",
    "recall@5",
    "recall@10",
    "mrr@10",
    "ndcg@10",
    "answer_accuracy",
    "abstention_precision",
    "abstention_recall",
    "false_abstentions",
    "latency_p50_ms",
    "latency_p95_ms",
    "bridge_coverage",
)
REGRESSION_TOLERANCE = 0.005  # primary-metric drop that counts as a regression, not noise
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9_.-]+")


# --- formatting helpers -------------------------------------------------------------------------------------


def _fmt(key: str, value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if key.endswith("_ms"):
        return f"{value:.1f}"
    if key.startswith("n_") or key.endswith("/n_queries") or key.endswith("false_abstentions"):
        return str(int(value))
    return f"{value:.3f}"


@lru_cache(maxsize=1)
def native_text_shaping() -> bool:
    """Whether matplotlib shapes and orders Arabic itself (libraqm, matplotlib >= 3.11).

    Probed rather than version-checked: if four raw BEH letters render narrower than four isolated BEH forms,
    they were joined by the text engine, and reshaping them again would reverse the text twice.
    """
    renderer = FigureCanvasAgg(Figure()).get_renderer()
    font = FontProperties()

    def width(s: str) -> float:
        return renderer.get_text_width_height_descent(s, font, ismath=False)[0]

    return width("\u0628" * 4) < width("\ufe8f" * 4)


def shape_for_display(text: str, max_chars: int = 90) -> str:
    """Text ready for a matplotlib text artist: truncated on the logical text, then reshaped if needed."""
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return text if native_text_shaping() else shape(text)


def _columns(results: Mapping[str, EvalResult]) -> list[str]:
    present = set().union(*(r.metrics for r in results.values())) if results else set()
    primaries = list(dict.fromkeys(r.primary_metric for r in results.values()))
    langs = sorted({k.split("/", 1)[0] for k in present if "/" in k})
    # Per-language primary metric only: the full breakdown lives in the JSON.
    per_lang = [f"{lang}/{p}" for p in primaries for lang in langs if f"{lang}/{p}" in present]
    return list(dict.fromkeys(primaries + [m for m in KEY_METRICS if m in present] + per_lang))


# --- files --------------------------------------------------------------------------------------------------


def markdown_table(results: Mapping[str, EvalResult], metrics: Sequence[str] | None = None) -> str:
    """One row per configuration; a benchmark column appears when the rows span several benchmarks."""
    cols = list(metrics) if metrics is not None else _columns(results)
    show_bench = len({r.benchmark for r in results.values()}) > 1
    head = ["config"] + (["benchmark"] if show_bench else []) + cols
    lines = [_row(head), "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for config, r in results.items():
        # eval/run.py names configs "<benchmark> | <config>": the benchmark column already says the first part
        shown = config.removeprefix(f"{r.benchmark} | ") if show_bench else config
        lines.append(_row([shown] + ([r.benchmark] if show_bench else []) + [_fmt(c, r.metrics.get(c)) for c in cols]))
    return "\n".join(lines) + "\n"


def _row(cells: Sequence[str]) -> str:
    # A "|" inside a cell would start a new column and shift every later cell by one: escape it.
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def write_markdown(path: str | Path, results: Mapping[str, EvalResult], title: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    benches = ", ".join(dict.fromkeys(r.benchmark for r in results.values()))
    path.write_text(f"# {title or benches}\n\n{markdown_table(results)}", encoding="utf-8")
    return path


def write_json(path: str | Path, results: Mapping[str, EvalResult], commit: str | Revision | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "generated_at": _now(),
        **_revision(commit).fields(),
        "results": {config: r.to_dict() for config, r in results.items()},
    }
    # allow_nan=False: the file must be strict JSON; metrics never hold NaN (undefined ones are left out).
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, allow_nan=False), encoding="utf-8")
    return path


def plot_recall_curves(path: str | Path, results: Mapping[str, EvalResult], max_k: int = K) -> Path:
    """recall@k for k = 1..max_k, one line per configuration (retrieval results only)."""
    fig = Figure(figsize=(7, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ks = list(range(1, max_k + 1))
    for config, r in results.items():
        if r.kind == "retrieval":
            ax.plot(ks, r.recall_curve(max_k), marker="o", label=config)
    ax.set(xlabel="k", ylabel="recall@k", ylim=(0, 1.02), xticks=ks)
    ax.set_title(", ".join(dict.fromkeys(r.benchmark for r in results.values())))
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right")
    return _save(fig, path)


def plot_failed_questions(path: str | Path, result: EvalResult, max_items: int = 25) -> Path:
    """A readable list of failed queries: question, gold answer, what came back."""
    failed = result.failed
    shown = failed[:max_items]
    rows = max(len(shown), 1)
    fig = Figure(figsize=(11, 0.9 + 0.62 * rows))
    FigureCanvasAgg(fig)
    fig.text(
        0.01, 1 - 0.25 / fig.get_figheight(), _failed_title(result), fontsize=11, weight="bold", va="top"
    )
    step = 0.62 / fig.get_figheight()
    top = 1 - 0.75 / fig.get_figheight()
    if not shown:
        fig.text(0.01, top, "no failed queries", fontsize=10, va="top")
    for i, d in enumerate(shown):
        y = top - i * step
        got = f"rank {d.rank}" if d.rank else (d.note or "no relevant in top 10")
        head = f"{d.query_id} [{d.lang}] {got} | top: {', '.join(d.retrieved[:3]) or '–'}"
        fig.text(0.01, y, shape_for_display(head, 120), fontsize=8, color="0.35", va="top")
        _line(fig, y - step * 0.33, d.question, fontsize=9.5)
        gold = " / ".join(d.expected[:2])
        if gold:
            _line(fig, y - step * 0.63, "gold: " + gold if not has_arabic(gold) else gold, 8, "darkgreen")
    if len(failed) > len(shown):
        fig.text(0.01, 0.005, f"… and {len(failed) - len(shown)} more", fontsize=8, va="bottom")
    return _save(fig, path)


def _failed_title(result: EvalResult) -> str:
    return f"{result.benchmark} — failed {result.kind} queries: {len(result.failed)} of {len(result.details)}"


def _line(fig: Figure, y: float, text: str, fontsize: float, color: str = "black") -> None:
    # Arabic lines are right-aligned, as a reader of Arabic expects them.
    arabic = has_arabic(text)
    x, ha = (0.99, "right") if arabic else (0.03, "left")
    fig.text(x, y, shape_for_display(text, 110), fontsize=fontsize, color=color, ha=ha, va="top")


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=110)
    return path


# --- history ------------------------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# The eval's own outputs change with every run; they are not the code being measured.
_OUTPUTS = ":(exclude)eval/results"


@dataclass(frozen=True)
class Revision:
    """What was measured: HEAD, whether the tree differed from it, and a hash of that difference.

    Two runs with the same commit, dirty=False measured the same code; with dirty=True they did only if their
    `diff_sha256` match. None means unknown (no git, or a caller that passed a bare commit).
    """

    commit: str | None
    dirty: bool | None = None
    diff_sha256: str | None = None  # of `git diff HEAD` plus untracked files (names and bytes), outputs excluded

    def fields(self) -> dict[str, str | bool | None]:
        return {"commit": self.commit, "dirty": self.dirty, "diff_sha256": self.diff_sha256}

    def label(self) -> str:
        if self.commit is None:
            return "?"
        return f"{self.commit}+dirty:{(self.diff_sha256 or '?')[:8]}" if self.dirty else self.commit


def _git(repo: Path, *args: str) -> bytes | None:
    try:
        out = subprocess.run(["git", *args], cwd=repo, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def git_revision(repo: str | Path | None = None) -> Revision:
    repo = Path(repo) if repo else Path(__file__).resolve().parent
    head = _git(repo, "rev-parse", "--short", "HEAD")
    if not head:
        return Revision(None)
    top = _git(repo, "rev-parse", "--show-toplevel")
    root = Path(top.decode().strip()) if top else repo
    diff = _git(root, "diff", "HEAD", "--binary", "--", ".", _OUTPUTS)
    untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard", "--", ".", _OUTPUTS)
    if diff is None or untracked is None:
        return Revision(head.decode().strip())
    digest = hashlib.sha256(diff)
    names = sorted(n for n in untracked.decode(errors="surrogateescape").split("\0") if n)
    for name in names:
        digest.update(b"\0untracked\0" + name.encode(errors="surrogateescape") + b"\0")
        try:
            digest.update((root / name).read_bytes())
        except OSError:
            continue
    dirty = bool(diff) or bool(names)
    return Revision(head.decode().strip(), dirty, digest.hexdigest() if dirty else None)


def git_commit(repo: str | Path | None = None) -> str | None:
    return git_revision(repo).commit


def _revision(commit: str | Revision | None) -> Revision:
    return commit if isinstance(commit, Revision) else Revision(commit)


def history_record(result: EvalResult, config: str, commit: str | Revision | None = None) -> dict:
    return {
        "timestamp": _now(),
        **_revision(commit).fields(),
        "benchmark": result.benchmark,
        "config": config,
        "kind": result.kind,
        "primary_metric": result.primary_metric,
        "primary": result.metrics.get(result.primary_metric),
        "metrics": dict(result.metrics),
    }


def previous_record(history_path: str | Path, benchmark: str, config: str, kind: str) -> dict | None:
    """The last history line for the same benchmark, config and kind; unreadable lines are skipped."""
    path = Path(history_path)
    if not path.exists():
        return None
    last = None
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if (rec.get("benchmark"), rec.get("config"), rec.get("kind", "retrieval")) == (
            benchmark,
            config,
            kind,
        ):
            last = rec
    return last


def append_history(history_path: str | Path, record: dict) -> None:
    path = Path(history_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")


def compare_to_previous(record: dict, previous: dict | None, tolerance: float = REGRESSION_TOLERANCE) -> str:
    """One line: primary metric with its delta against the previous run, flagged when it dropped."""
    name = record["primary_metric"]
    now = record["metrics"].get(name)
    head = _headline(record)
    if previous is None:
        return f"{head} (first run)"
    before = previous.get("metrics", {}).get(name)
    if now is None or before is None:
        return f"{head} (previous run has no {name})"
    delta = now - before
    flag = " REGRESSION" if delta < -tolerance else (" improved" if delta > tolerance else "")
    others = []
    for key in KEY_METRICS:
        if key != name and key in record["metrics"] and key in previous.get("metrics", {}):
            d = record["metrics"][key] - previous["metrics"][key]
            if abs(d) > 1e-9:
                others.append(f"{key} {d:+.3f}" if not key.endswith("_ms") else f"{key} {d:+.1f}")
    since = (
        f"prev {_fmt(name, before)} @ {_previous_label(previous)} {previous.get('timestamp', '')}".strip()
    )
    tail = f"; {', '.join(others)}" if others else ""
    return f"{head} ({since}, {delta:+.3f}){flag}{tail}"


def _previous_label(previous: dict) -> str:
    return Revision(previous.get("commit"), previous.get("dirty"), previous.get("diff_sha256")).label()


def _headline(record: dict) -> str:
    name = record["primary_metric"]
    label = f"{record['benchmark']} / {record['config']} [{record['kind']}]"
    return f"{label}: {name} = {_fmt(name, record['metrics'].get(name))}"


def record_run(history_path: str | Path, result: EvalResult, config: str,
               commit: str | Revision | None = None) -> str:
    """Append this run to the history and return its comparison with the previous matching line."""
    record = history_record(result, config, commit)
    previous = previous_record(history_path, result.benchmark, config, result.kind)
    append_history(history_path, record)
    return compare_to_previous(record, previous)


def write_report(
    out_dir: str | Path,
    results: Mapping[str, EvalResult],
    history_path: str | Path | None = None,
    commit: str | Revision | None = None,
) -> str:
    """Write results.json/.md, recall_at_k.png, failed_<config>_<kind>.png; log history; return a summary.

    Without `commit`, the working tree's revision is recorded (commit, dirty flag, diff hash).
    """
    out = Path(out_dir)
    commit = commit or git_revision()
    write_json(out / "results.json", results, commit)
    write_markdown(out / "results.md", results)
    if any(r.kind == "retrieval" for r in results.values()):
        plot_recall_curves(out / "recall_at_k.png", results)
    for config, r in results.items():
        plot_failed_questions(out / f"failed_{_UNSAFE_FILENAME.sub('_', config)}_{r.kind}.png", r)
    if history_path is None:
        return "\n".join(_headline(history_record(r, c, commit)) for c, r in results.items())
    return "\n".join(record_run(history_path, r, config, commit) for config, r in results.items())
