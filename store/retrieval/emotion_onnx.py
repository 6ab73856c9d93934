"""The emotion head as a small ONNX graph, built from its weights when it is loaded.

The head ships as NumPy arrays (``store/data/emotion_head.npz``, retrained from time to time),
so its graph is not part of the model's export: :func:`head_graph` writes the same math as
``EmotionHead.logits`` (BERT layer(s): self-attention, residual + layer norm, exact-erf GELU
feed-forward, residual + layer norm; mean pooling over real tokens; the linear classifier)
with :mod:`store.retrieval.onnx_proto` (no ``onnx`` import at start-up), and
:class:`OnnxHead` runs it in ONNX Runtime on the hidden states the
exported encoder outputs (``hidden_states``). A few MB, built in milliseconds; no torch.
The text cues and the calibration stay in NumPy (:class:`store.retrieval.emotion.EmotionHead`).
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from store.retrieval.emotion_numpy import HeadWeights
from store.retrieval.onnx_model import OPSET
from store.retrieval.onnx_proto import BOOL, FLOAT, INT64, Graph

#: The ONNX IR version written: the oldest one that carries opset 17, read by every
#: onnxruntime this package accepts (>= 1.18).
IR_VERSION = 8
INPUTS = ("hidden_states", "attention_mask")
OUTPUT = "logits"


def head_graph(head: HeadWeights) -> bytes:
    """The serialized ONNX model: ``hidden_states`` (batch, tokens, dim) float32 and
    ``attention_mask`` (batch, tokens) int64 in, ``logits`` (batch, classes) out, before
    the text cues and calibration. Deterministic for given weights."""
    dim = int(head.head_w.shape[1])
    heads = int(head.heads)
    head_dim = dim // heads
    g = Graph("emotion_head")
    node, const = g.node, g.const

    def linear(x: str, w: np.ndarray, b: np.ndarray, name: str) -> str:
        """``x @ w.T + b`` (torch's ``F.linear``)."""
        y = node("MatMul", [x, const(f"{name}.wT", np.asarray(w, np.float32).T)], f"{name}.mm")
        return node("Add", [y, const(f"{name}.b", np.asarray(b, np.float32))], name)

    f32 = np.float32
    shape_heads = const("shape_heads", np.array([0, 0, heads, head_dim], np.int64))
    shape_dim = const("shape_dim", np.array([0, 0, dim], np.int64))
    scale = const("scale", np.array(1.0 / math.sqrt(head_dim), f32))
    masked = const("masked", np.array(-1e4, f32))
    half, one = const("half", np.array(0.5, f32)), const("one", np.array(1.0, f32))
    sqrt_half = const("sqrt_half", np.array(1.0 / math.sqrt(2.0), f32))
    axis1 = const("axis1", np.array([1], np.int64))
    axis2 = const("axis2", np.array([2], np.int64))
    axes12 = const("axes12", np.array([1, 2], np.int64))

    x = g.input(INPUTS[0], FLOAT, ["batch", "tokens", dim])
    mask = g.input(INPUTS[1], INT64, ["batch", "tokens"])
    keep4 = node("Unsqueeze", [node("Cast", [mask], "keep", to=BOOL), axes12], "keep4")
    for n, w in enumerate(head.blocks):
        p = f"b{n}"

        def split(t: str, perm: list[int], name: str) -> str:
            """(B, T, D) -> (B, heads, T, head_dim), or (B, heads, head_dim, T) for keys."""
            return node("Transpose", [node("Reshape", [t, shape_heads], f"{name}.heads")],
                        f"{name}.t", perm=perm)

        q = split(linear(x, w["q_w"], w["q_b"], f"{p}.q"), [0, 2, 1, 3], f"{p}.q")
        kt = split(linear(x, w["k_w"], w["k_b"], f"{p}.k"), [0, 2, 3, 1], f"{p}.k")
        v = split(linear(x, w["v_w"], w["v_b"], f"{p}.v"), [0, 2, 1, 3], f"{p}.v")
        att = node("Mul", [node("MatMul", [q, kt], f"{p}.qk"), scale], f"{p}.scaled")
        att = node("Where", [keep4, att, masked], f"{p}.masked")  # masked_fill(-1e4)
        att = node("Softmax", [att], f"{p}.att", axis=-1)
        ctx = node("Transpose", [node("MatMul", [att, v], f"{p}.ctx")], f"{p}.ctx.t",
                   perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, shape_dim], f"{p}.ctx.dim")
        res = node("Add", [x, linear(ctx, w["o_w"], w["o_b"], f"{p}.o")], f"{p}.res1")
        x = node("LayerNormalization", [res, const(f"{p}.ln1.w", w["ln1_w"]),
                                        const(f"{p}.ln1.b", w["ln1_b"])], f"{p}.ln1",
                 axis=-1, epsilon=float(head.eps))
        h = linear(x, w["i_w"], w["i_b"], f"{p}.i")  # exact GELU: 0.5 h (1 + erf(h / sqrt 2))
        erf = node("Erf", [node("Mul", [h, sqrt_half], f"{p}.i.s")], f"{p}.i.erf")
        gelu = node("Mul", [node("Mul", [h, half], f"{p}.i.h"),
                            node("Add", [erf, one], f"{p}.i.e1")], f"{p}.gelu")
        res = node("Add", [x, linear(gelu, w["out_w"], w["out_b"], f"{p}.out")], f"{p}.res2")
        x = node("LayerNormalization", [res, const(f"{p}.ln2.w", w["ln2_w"]),
                                        const(f"{p}.ln2.b", w["ln2_b"])], f"{p}.ln2",
                 axis=-1, epsilon=float(head.eps))
    m = node("Unsqueeze", [node("Cast", [mask], "maskf", to=FLOAT), axis2], "maskf3")
    total = node("ReduceSum", [node("Mul", [x, m], "masked_x"), axis1], "sum", keepdims=0)
    count = node("Max", [node("ReduceSum", [m, axis1], "count", keepdims=0), one], "count1")
    linear(node("Div", [total, count], "pooled"), head.head_w, head.head_b, OUTPUT)
    g.output(OUTPUT, FLOAT, ["batch", int(head.head_w.shape[0])])
    return g.model(opset=OPSET, ir_version=IR_VERSION, producer="voicebot.emotion_onnx")


class OnnxHead:
    """The head's graph in an ONNX Runtime session: ``logits(states, mask)`` as
    ``emotion_numpy.logits`` computes them (tests/test_emotion_onnx.py). The graph is built
    at once (a bad weights file fails here); the session on first use (~0.1 s: start-up
    does not wait for it, ``Encoder.warm_up`` does)."""

    def __init__(self, head: HeadWeights, *, threads: int | None = None) -> None:
        """``threads``: intra-op threads (None: one per core), as the encoder's session."""
        self._graph: bytes | None = head_graph(head)
        self._threads = threads
        self._session: Any = None
        self._lock = threading.Lock()

    def _open(self) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.inter_op_num_threads = 1
        if self._threads:
            options.intra_op_num_threads = self._threads
        # as the encoder's session: idle threads sleep (the machine is shared)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        session = ort.InferenceSession(self._graph, options,
                                       providers=["CPUExecutionProvider"])
        self._graph = None
        return session

    def __call__(self, states: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.logits(states, mask)

    def logits(self, states: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Raw class scores: ``states`` (B, T, D) entering the head's layer, ``mask`` (B, T)."""
        feed = {INPUTS[0]: np.ascontiguousarray(states, np.float32),
                INPUTS[1]: np.ascontiguousarray(mask, np.int64)}
        with self._lock:
            if self._session is None:
                self._session = self._open()
            (out,) = self._session.run([OUTPUT], feed)
        result: np.ndarray = out
        return result
