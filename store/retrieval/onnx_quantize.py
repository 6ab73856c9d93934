"""The topic model: the exported graph with 8-bit weights, for encoding ``/voice`` topics.

A topic is a handful of tokens, so its encode reads the transformer's 42 MB of fp32 weights
for little arithmetic: the read is the cost. :func:`topic_graph` rewrites every ``MatMul``
by a constant weight matrix into ONNX Runtime's ``MatMulNBits`` (com.microsoft): weights
stored in 8 bits per value, one fp32 scale per block of ``BLOCK`` inputs of each output
column (symmetric, zero point 128), multiplied at ``ACCURACY_LEVEL`` 4 (activations
quantized per block to int8, accumulated in int32). The word-embedding table stays fp32 and
is shared with the full model's session (``word_embeddings.npy``, memory-mapped), so the
second session costs ~10 MiB, not ~50.

Only topics go through it. Stored vectors and the emotion head's hidden states come from the
exact fp32 graph, so the model tag is unchanged and nothing is re-embedded. Measured before
shipping (``python bench/topic_precision.py``, bench/QUALITY.md "Topic precision"): topic
vectors at cosine >= 0.99 to the fp32 ones, retrieval on all four eval columns and the
product-feedback set within a fraction of a point of fp32 topics. Plain dynamic int8
quantization (one scale per tensor, activations too) lost 4.5 points of P@5; per-channel
dynamic ~0.8; blocks of 32 were no better than 128 and slower.

Pure ``onnx`` + NumPy, deterministic: the same input graph gives the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

#: inputs per quantization block along each weight column
BLOCK = 128
BITS = 8
#: MatMulNBits ``accuracy_level``: 4 = int8 compute (0/1 = fp32 compute, ~4x slower here)
ACCURACY_LEVEL = 4
TOPIC_OUTPUT = "sentence_embedding"


def quantize_columns(W: np.ndarray, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """``W`` (K x N, fp32) as MatMulNBits' 8-bit operands: ``(packed, scales)``, packed of
    shape (N, K/block, block) uint8 (value + 128), scales (N * K/block,) fp32."""
    K, N = W.shape
    blocks = -(-K // block)
    padded = np.zeros((blocks * block, N), dtype=np.float32)
    padded[:K] = W
    cols = padded.reshape(blocks, block, N).transpose(2, 0, 1)  # (N, blocks, block)
    scale = np.abs(cols).max(axis=2) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(cols / scale[:, :, None]), -127, 127).astype(np.int16) + 128
    return q.astype(np.uint8), scale.reshape(-1).astype(np.float32)


def dequantize_columns(packed: np.ndarray, scales: np.ndarray, K: int) -> np.ndarray:
    """The K x N matrix :func:`quantize_columns` stands for (what the graph multiplies by)."""
    N, blocks, block = packed.shape
    cols = (packed.astype(np.float32) - 128.0) * scales.reshape(N, blocks)[:, :, None]
    out: np.ndarray = cols.transpose(1, 2, 0).reshape(blocks * block, N)[:K]
    return out


def word_embeddings_name(model: onnx.ModelProto) -> str:
    """The name of the graph's word-embedding table: the initializer the first ``Gather``
    on ``input_ids`` reads."""
    graph = model.graph
    for node in graph.node:
        if node.op_type == "Gather" and "input_ids" in node.input[1:]:
            return str(node.input[0])
    raise ValueError("the graph has no Gather on input_ids")


def topic_graph(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` with each constant-weight ``MatMul`` as an
    8-bit ``MatMulNBits`` and only the sentence-embedding output."""
    import onnx
    from onnx import helper, numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    weights = {i.name: i for i in graph.initializer}
    users: dict[str, int] = {}
    for n in graph.node:
        for name in n.input:
            users[name] = users.get(name, 0) + 1
    nodes, dropped, added = [], set(), []
    for node in graph.node:
        w = weights.get(node.input[1]) if node.op_type == "MatMul" else None
        if w is None or len(w.dims) != 2 or users[node.input[1]] != 1:
            nodes.append(node)
            continue
        W = numpy_helper.to_array(w).astype(np.float32)
        packed, scales = quantize_columns(W)
        dropped.add(w.name)
        added += [numpy_helper.from_array(packed, w.name + ".q8"),
                  numpy_helper.from_array(scales, w.name + ".scale")]
        nodes.append(helper.make_node(
            "MatMulNBits", [node.input[0], w.name + ".q8", w.name + ".scale"],
            list(node.output), name=(node.name or w.name) + ".nbits", domain="com.microsoft",
            K=W.shape[0], N=W.shape[1], bits=BITS, block_size=BLOCK,
            accuracy_level=ACCURACY_LEVEL))
    if not dropped:
        raise ValueError("no constant-weight MatMul to quantize")
    kept = [i for i in graph.initializer if i.name not in dropped] + added
    del graph.initializer[:]
    graph.initializer.extend(kept)
    del graph.node[:]
    graph.node.extend(nodes)
    outputs = [o for o in graph.output if o.name == TOPIC_OUTPUT]
    del graph.output[:]
    graph.output.extend(outputs)
    if not any(o.domain == "com.microsoft" for o in out.opset_import):
        out.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return out
