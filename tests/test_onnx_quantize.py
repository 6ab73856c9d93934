"""The 8-bit topic graph's rewrite (store.retrieval.onnx_quantize), on small graphs: the
weights it stores stand for the fp32 ones within half a quantization step, ONNX Runtime runs
it to the fp32 graph's result, and the same graph always gives the same bytes."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from store.retrieval import onnx_quantize


def test_each_weight_is_within_half_a_step_of_its_block_scale() -> None:
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.05, (300, 7)).astype(np.float32)  # 300 inputs: a partial last block
    W[:, 3] = 0.0  # an all-zero column keeps a usable scale
    W[5, 1] = 4.0  # an outlier widens only its own block's step
    packed, scales = onnx_quantize.quantize_columns(W)
    blocks = -(-300 // onnx_quantize.BLOCK)
    assert packed.shape == (7, blocks, onnx_quantize.BLOCK) and packed.dtype == np.uint8
    assert scales.shape == (7 * blocks,) and np.isfinite(scales).all() and (scales > 0).all()
    back = onnx_quantize.dequantize_columns(packed, scales, 300)
    step = np.repeat(scales.reshape(7, blocks).T, onnx_quantize.BLOCK, axis=0)[:300]
    assert np.all(np.abs(back - W) <= step / 2 + 1e-7)
    assert np.all(back[:, 3] == 0.0)
    assert packed.min() >= 1 and packed.max() <= 255  # symmetric: -127..127 around 128


def _graph(rng: np.random.Generator) -> onnx.ModelProto:
    """input_ids -> Gather(table) -> MatMul(W1) -> Relu -> MatMul(W2): a toy encoder."""
    table = rng.normal(0, 1, (50, 256)).astype(np.float32)
    W1 = rng.normal(0, 0.06, (256, 128)).astype(np.float32)
    W2 = rng.normal(0, 0.09, (128, 32)).astype(np.float32)
    nodes = [helper.make_node("Gather", ["table", "input_ids"], ["x"]),
             helper.make_node("MatMul", ["x", "W1"], ["h"]),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("MatMul", ["r", "W2"], ["sentence_embedding"]),
             helper.make_node("Identity", ["x"], ["hidden_states"])]
    graph = helper.make_graph(
        nodes, "toy",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, None])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("hidden_states", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(a, n) for a, n in ((table, "table"), (W1, "W1"), (W2, "W2"))])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model: onnx.ModelProto, ids: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    out: np.ndarray = session.run(["sentence_embedding"], {"input_ids": ids})[0]
    return out


def test_the_topic_graph_computes_what_the_full_graph_computes() -> None:
    model = _graph(np.random.default_rng(1))
    topic = onnx_quantize.topic_graph(model)
    ops = [n.op_type for n in topic.graph.node]
    assert ops.count("MatMulNBits") == 2 and "MatMul" not in ops
    assert [o.name for o in topic.graph.output] == ["sentence_embedding"]
    assert {i.name for i in topic.graph.initializer} >= {"table"}  # the table stays fp32
    assert onnx_quantize.word_embeddings_name(topic) == "table"
    ids = np.array([[3, 14, 15, 9, 26]], dtype=np.int64)
    full, fast = _run(model, ids)[0], _run(topic, ids)[0]
    cos = (full * fast).sum(-1) / np.linalg.norm(full, axis=-1) / np.linalg.norm(fast, axis=-1)
    assert cos.min() >= 0.99, cos
    assert len(model.graph.node) == 5 and model.graph.node[1].op_type == "MatMul"  # untouched


def test_the_rewrite_is_deterministic_and_refuses_a_graph_with_nothing_to_quantize() -> None:
    a = onnx_quantize.topic_graph(_graph(np.random.default_rng(2)))
    b = onnx_quantize.topic_graph(_graph(np.random.default_rng(2)))
    assert a.SerializeToString() == b.SerializeToString()
    plain = helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["x"], ["sentence_embedding"])], "plain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, [1, 4])]))
    with pytest.raises(ValueError, match="no constant-weight MatMul"):
        onnx_quantize.topic_graph(plain)
    with pytest.raises(ValueError, match="no Gather on input_ids"):
        onnx_quantize.word_embeddings_name(plain)
