"""The emotion head's forward pass in NumPy, for the ONNX embedder (no torch at run time).

The same math as ``EmotionHead.logits`` (tests/test_onnx.py compares the two): each block is a
BERT layer (self-attention, residual + layer norm, GELU feed-forward, residual + layer norm),
then mean pooling over real tokens and the linear classifier.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np


class HeadWeights(Protocol):
    """What the forward pass reads of an ``EmotionHead``."""

    blocks: list[dict[str, np.ndarray]]
    heads: int
    eps: float
    head_w: np.ndarray
    head_b: np.ndarray

_SQRT_HALF = 1.0 / math.sqrt(2.0)


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to ~1e-7 absolute (Abramowitz & Stegun 7.1.26 is 1.5e-7); NumPy has none."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (
        -1.453152027 + t * 1.061405429))))
    result: np.ndarray = sign * (1.0 - poly * np.exp(-a * a))
    return result


def gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU, as ``torch.nn.functional.gelu``'s default."""
    result: np.ndarray = 0.5 * x * (1.0 + _erf(x * _SQRT_HALF))
    return result


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    result: np.ndarray = (x - mean) / np.sqrt(var + eps) * w + b
    return result


def _linear(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x @ w.T + b`` over the last axis, as one 2-D matrix product (BLAS)."""
    out: np.ndarray = x.reshape(-1, x.shape[-1]) @ w.astype(np.float32, copy=False).T + b
    return out.reshape(*x.shape[:-1], w.shape[0])


def logits(head: HeadWeights, states: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Raw class scores: ``states`` (B, T, D) entering the head's layer, ``mask`` (B, T)."""
    x = np.ascontiguousarray(states, np.float32)
    keep = np.asarray(mask).astype(bool)
    batch, length, dim = x.shape
    heads = head.heads
    head_dim = dim // heads
    scale = np.float32(1.0 / math.sqrt(head_dim))
    masked = np.where(keep, 0.0, -1e4).astype(np.float32)[:, None, None, :]
    for w in head.blocks:
        def split(t: np.ndarray) -> np.ndarray:  # (B, T, D) -> (B, heads, T, head_dim)
            return np.ascontiguousarray(
                t.reshape(batch, length, heads, head_dim).transpose(0, 2, 1, 3))

        q = split(_linear(x, w["q_w"], w["q_b"]))
        k = split(_linear(x, w["k_w"], w["k_b"]))
        v = split(_linear(x, w["v_w"], w["v_b"]))
        att = np.matmul(q, np.ascontiguousarray(k.transpose(0, 1, 3, 2))) * scale
        att = np.where(masked < 0, masked, att)  # masked_fill(-1e4), as the torch head
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        ctx = np.matmul(att, v).transpose(0, 2, 1, 3).reshape(batch, length, dim)
        x = layer_norm(x + _linear(ctx, w["o_w"], w["o_b"]), w["ln1_w"], w["ln1_b"], head.eps)
        ffn = _linear(gelu(_linear(x, w["i_w"], w["i_b"])), w["out_w"], w["out_b"])
        x = layer_norm(x + ffn, w["ln2_w"], w["ln2_b"], head.eps)
    m = keep[..., None].astype(np.float32)
    pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1.0)
    result: np.ndarray = pooled @ head.head_w.T + head.head_b
    return result
