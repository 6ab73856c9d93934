"""The emotion head's ONNX graph (store/retrieval/emotion_onnx.py) computes what the torch
head computes, for the packaged weights and for any head of the same format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from store.retrieval.emotion import EmotionHead, EmotionReader
from store.retrieval.emotion_numpy import logits as numpy_logits
from store.retrieval.emotion_onnx import OnnxHead, head_graph

PACKAGED = Path(__file__).resolve().parent.parent / "store" / "data" / "emotion_head.npz"


def _arrays() -> dict[str, np.ndarray]:
    with np.load(PACKAGED) as data:
        return {k: data[k] for k in data.files}


def _batch(lengths: list[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Hidden states of texts of ``lengths`` tokens padded to the longest, with garbage in
    the padding (a text's scores must not depend on its batch)."""
    rng = np.random.default_rng(seed)
    width = max(lengths)
    states = rng.normal(size=(len(lengths), width, 384)).astype(np.float32)
    mask = np.zeros((len(lengths), width), np.int64)
    for row, n in enumerate(lengths):
        mask[row, :n] = 1
        states[row, n:] *= 50
    return states, mask


def _torch_logits(head: EmotionHead, states: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return head._torch_logits(torch.from_numpy(states), torch.from_numpy(mask))


def test_the_graph_is_the_torch_head_on_the_packaged_weights() -> None:
    head = EmotionHead.load()
    states, mask = _batch([2, 9, 31, 5, 1, 17])
    got = OnnxHead(head, threads=1).logits(states, mask)
    np.testing.assert_allclose(got, _torch_logits(head, states, mask), atol=2e-4)
    np.testing.assert_allclose(got, numpy_logits(head, states, mask), atol=2e-4)
    # one text alone gives its scores in a padded batch
    alone = OnnxHead(head, threads=1).logits(states[2:3, :31], mask[2:3, :31])
    np.testing.assert_allclose(alone, got[2:3], atol=1e-4)


def test_the_graph_follows_the_weights_file_blocks_and_shapes() -> None:
    """A retrained head may have other weights, more blocks, another feed-forward width:
    the graph is built from what the file holds."""
    rng = np.random.default_rng(1)
    arrays = _arrays()
    blocks = int(arrays["blocks"])
    for b in range(blocks):  # a second block after each one, with perturbed weights
        for k in [k for k in arrays if k.startswith(f"b{b}.")]:
            arrays[f"b{b + blocks}.{k.split('.', 1)[1]}"] = arrays[k]
    for k in [k for k in arrays if k.startswith("b")]:
        arrays[k] = (arrays[k].astype(np.float32)
                     + rng.normal(scale=0.02, size=arrays[k].shape).astype(np.float32))
    width = 96  # a narrower feed-forward than the packaged head's
    for b in range(2 * blocks):
        arrays[f"b{b}.i_w"] = arrays[f"b{b}.i_w"][:width]
        arrays[f"b{b}.i_b"] = arrays[f"b{b}.i_b"][:width]
        arrays[f"b{b}.out_w"] = arrays[f"b{b}.out_w"][:, :width]
    arrays["blocks"] = np.array(2 * blocks)
    head = EmotionHead(arrays)
    states, mask = _batch([4, 12, 7], seed=2)
    np.testing.assert_allclose(OnnxHead(head, threads=1).logits(states, mask),
                               _torch_logits(head, states, mask), atol=2e-4)


def test_the_graph_is_deterministic() -> None:
    head = EmotionHead.load()
    assert head_graph(head) == head_graph(EmotionHead.load())


class _Embedder:
    """Stands in for OnnxEmbedder: hands the reader an ONNX head runner."""

    name = "stand-in"

    def __init__(self, head: EmotionHead) -> None:
        self.made: list[OnnxHead] = []
        self.fingerprint = lambda layer: head.fingerprint if layer == head.layer else None

    def head_runner(self, head: EmotionHead) -> OnnxHead:
        self.made.append(OnnxHead(head, threads=1))
        return self.made[-1]


def test_the_reader_scores_through_the_embedders_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    head = EmotionHead.load()
    embedder = _Embedder(head)
    reader = EmotionReader(embedder, head)
    assert reader.run is embedder.made[0]
    states, mask = _batch([3, 8])
    monkeypatch.setattr("store.retrieval.emotion_numpy.logits",
                        lambda *a: pytest.fail("NumPy ran the head"))
    got = head.logits(states, mask, ["ok 😡", "fine"], run=reader.run)
    expected = head.logits(torch.from_numpy(states), torch.from_numpy(mask), ["ok 😡", "fine"])
    np.testing.assert_allclose(got, expected, atol=2e-4)


def test_the_written_protobuf_is_what_onnx_writes() -> None:
    """store.retrieval.onnx_proto against the onnx package's own helpers, byte for byte."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    from store.retrieval.onnx_proto import FLOAT, INT64, Graph

    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    mine = Graph("g")
    mine.input("x", FLOAT, ["batch", 2])
    mine.input("n", INT64, [1])
    mine.const("w", w)
    mine.const("s", np.array(-3, np.int64))
    mine.node("MatMul", ["x", "w"], "y")
    mine.node("Softmax", ["y"], "z", axis=-1)
    mine.node("LayerNormalization", ["z", "w", "w"], "o", axis=-1, epsilon=1e-12)
    mine.node("Transpose", ["o"], "t", perm=[1, 0])
    mine.output("t", FLOAT, [3, "batch"])
    theirs = helper.make_model(
        helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["y"], name="y"),
             helper.make_node("Softmax", ["y"], ["z"], name="z", axis=-1),
             helper.make_node("LayerNormalization", ["z", "w", "w"], ["o"], name="o",
                              axis=-1, epsilon=1e-12),
             helper.make_node("Transpose", ["o"], ["t"], name="t", perm=[1, 0])],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2]),
             helper.make_tensor_value_info("n", TensorProto.INT64, [1])],
            [helper.make_tensor_value_info("t", TensorProto.FLOAT, [3, "batch"])],
            initializer=[numpy_helper.from_array(w, "w"),
                         numpy_helper.from_array(np.array(-3, np.int64), "s")]),
        opset_imports=[helper.make_opsetid("", 17)], producer_name="p", ir_version=8)
    assert mine.model(opset=17, ir_version=8, producer="p") == \
        theirs.SerializeToString(deterministic=True)
    assert onnx.load_from_string(mine.model(opset=17, ir_version=8, producer="p")) == theirs


def test_the_head_graph_passes_onnx_checks() -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    head = EmotionHead.load()
    model = onnx.load_from_string(head_graph(head))
    onnx.checker.check_model(model, full_check=True)  # also infers every shape
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    np.testing.assert_array_equal(inits["b0.q.wT"], head.blocks[0]["q_w"].T)
    assert [i.name for i in model.graph.input] == ["hidden_states", "attention_mask"]
    assert [o.name for o in model.graph.output] == ["logits"]
