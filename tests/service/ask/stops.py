"""Follow one question through `/ask` with `sys.setprofile`: which modules of the ask component it stops in, how
often each is entered, and how often each tokenizer runs on the same text (issue 28, item 5).

A *stop* is an ask module entered from a function of another module (distinct caller function → callee module;
a comprehension counts as the function around it; dataclass-generated methods are not counted); a module
*entered twice* is entered from two or more functions. A
*tokenizer run* is an entry into `indexer/text/arabic.py` (normalize, tokenize) or e5's `tokenizer.py` from
outside them, counted per text (its first argument).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

# The ask component: everything between the search response and the answer, the reader included.
ASK_MODULES = ("isnad.service.ask", "isnad.service.answer", "isnad.service.answer_types",
               "isnad.service.answerability", "isnad.indexer.reader")
READER = "isnad.indexer.reader"
TRANSPARENT = frozenset({"functools"})
TOKENIZERS = {"isnad.indexer.text.arabic": "arabic", "isnad.indexer.encoder.tokenizer": "e5"}


def _in(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _function(frame: FrameType | None) -> str:
    """The function a frame runs in (a comprehension's or generator expression's: the one around it)."""
    while frame is not None and frame.f_code.co_name.startswith("<") and frame.f_back is not None and \
            frame.f_back.f_globals is frame.f_globals:
        frame = frame.f_back
    return frame.f_code.co_qualname if frame is not None else ""


@dataclass
class Trace:
    stops: set[tuple[str, str, str]] = field(default_factory=set)  # caller module, caller function, callee module
    runs: Counter[tuple[str, str]] = field(default_factory=Counter)  # (tokenizer.function, text) -> entries
    run_callers: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # the modules that ran them

    @property
    def modules(self) -> set[str]:
        return {callee for _, _, callee in self.stops}

    def entries(self) -> Counter[str]:
        """Per ask module: how many functions of other modules enter it."""
        return Counter(callee for _, _, callee in self.stops)

    def most_runs(self, text: str | None = None) -> dict[str, int]:
        """Per tokenizer: the most runs on one text (on `text` only, when given)."""
        out: dict[str, int] = {}
        for (name, t), n in self.runs.items():
            if text is None or t == text:
                out[name] = max(out.get(name, 0), n)
        return out


def trace(call: Callable[[], Any], reader_as_one: bool = False) -> tuple[Any, Trace]:
    """Run `call` in this thread under the profiler (a reader or embedder on another thread is not seen).
    `reader_as_one`: the reader's implementation behind the seam (`indexer/reader/*`) counts as one module."""
    found = Trace()

    def unit(module: str) -> str:
        return READER if reader_as_one and _in(module, (READER,)) else module

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event != "call":
            return
        callee = unit(frame.f_globals.get("__name__", ""))
        back = frame.f_back
        while back is not None and back.f_globals.get("__name__") in TRANSPARENT:
            back = back.f_back  # a cached_property's getter: the caller is whoever read the attribute
        caller = unit(back.f_globals.get("__name__", "")) if back is not None else ""
        if caller == callee:
            return
        if _in(callee, ASK_MODULES) and "__create_fn__" not in frame.f_code.co_qualname:
            found.stops.add((caller, _function(back), callee))
        tokenizer = TOKENIZERS.get(callee)
        if tokenizer and not frame.f_code.co_name.startswith("_") and frame.f_code.co_argcount:
            names = frame.f_code.co_varnames
            first = frame.f_locals.get(names[1] if names[0] == "self" else names[0])
            if isinstance(first, str):
                found.runs[(f"{tokenizer}.{frame.f_code.co_name}", first)] += 1
                found.run_callers.setdefault((f"{tokenizer}.{frame.f_code.co_name}", first), []).append(caller)

    sys.setprofile(profile)
    try:
        result = call()
    finally:
        sys.setprofile(None)
    return result, found
