"""Emotion of a quote from its sentence embedding (pure numpy, no torch at run time).

The head is a one-hidden-layer ReLU MLP trained by ``bench/train_emotion.py`` on GoEmotions
mapped to five classes (see ``bench/EMOTION.md``). It reads the 384-d normalized
all-MiniLM-L6-v2 vector the app already computes for each quote, so no second model runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import BinaryIO

import numpy as np

EMOTIONS: tuple[str, ...] = ("frustrated", "confused", "delighted", "disappointed", "neutral")

_PACKAGE = "store"
_RESOURCE = "data/emotion_head.npz"
_ARRAYS = ("w1", "b1", "w2", "b2", "temperature", "bias")


@dataclass(frozen=True)
class EmotionGuess:
    """One predicted emotion and the calibrated softmax probability of that class."""

    label: str
    confidence: float


class EmotionClassifier:
    """Calibrated MLP head: ``softmax((relu(x @ w1 + b1) @ w2 + b2) / temperature + bias)``."""

    def __init__(
        self,
        w1: np.ndarray,
        b1: np.ndarray,
        w2: np.ndarray,
        b2: np.ndarray,
        temperature: float = 1.0,
        bias: np.ndarray | None = None,
        labels: tuple[str, ...] = EMOTIONS,
    ) -> None:
        self.w1 = np.asarray(w1, dtype=np.float32)
        self.b1 = np.asarray(b1, dtype=np.float32).reshape(-1)
        self.w2 = np.asarray(w2, dtype=np.float32)
        self.b2 = np.asarray(b2, dtype=np.float32).reshape(-1)
        self.temperature = float(temperature)
        n_out = len(labels)
        self.bias = (
            np.zeros(n_out, np.float32)
            if bias is None
            else np.asarray(bias, dtype=np.float32).reshape(-1)
        )
        self.labels = tuple(labels)
        hidden = self.w1.shape[1] if self.w1.ndim == 2 else -1
        if (
            self.w1.ndim != 2
            or self.b1.shape != (hidden,)
            or self.w2.shape != (hidden, n_out)
            or self.b2.shape != (n_out,)
            or self.bias.shape != (n_out,)
        ):
            raise ValueError(
                f"inconsistent emotion head shapes: w1 {self.w1.shape}, b1 {self.b1.shape}, "
                f"w2 {self.w2.shape}, b2 {self.b2.shape}, bias {self.bias.shape}, "
                f"{n_out} labels"
            )
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")

    @property
    def dim(self) -> int:
        """Expected input dimension (384 for all-MiniLM-L6-v2)."""
        return int(self.w1.shape[0])

    @classmethod
    def load(cls, path: str | Path | None = None) -> EmotionClassifier:
        """Load weights from ``path``, or the packaged ``store/data/emotion_head.npz``."""
        if path is None:
            ref = resources.files(_PACKAGE).joinpath(_RESOURCE)
            with ref.open("rb") as fh:
                arrays = cls._read(fh, str(ref))
        else:
            with open(path, "rb") as fh:
                arrays = cls._read(fh, str(path))
        labels = tuple(str(x) for x in arrays.get("labels", np.array(EMOTIONS)))
        return cls(
            arrays["w1"],
            arrays["b1"],
            arrays["w2"],
            arrays["b2"],
            temperature=float(arrays["temperature"].reshape(-1)[0]),
            bias=arrays["bias"],
            labels=labels,
        )

    @staticmethod
    def _read(fh: BinaryIO, where: str) -> dict[str, np.ndarray]:
        with np.load(fh, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        missing = [k for k in _ARRAYS if k not in arrays]
        if missing:
            raise ValueError(f"{where}: emotion head is missing arrays {missing}")
        return arrays

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities, shape ``(n, len(labels))``, columns in label order."""
        x = np.asarray(vectors, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.dim:
            got = f"{x.shape[1]}-d vectors" if x.ndim == 2 else f"shape {np.shape(vectors)}"
            raise ValueError(
                f"emotion head expects {self.dim}-d sentence embeddings (all-MiniLM-L6-v2) as "
                f"shape (n, {self.dim}), got {got}; a different embedding model needs a head "
                "retrained with bench/train_emotion.py"
            )
        hidden = np.maximum(x @ self.w1 + self.b1, 0.0)
        logits = (hidden @ self.w2 + self.b2) / self.temperature + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, vectors: np.ndarray) -> list[EmotionGuess]:
        """One guess per row of ``vectors`` (shape ``(n, dim)``; a single 1-D vector is allowed)."""
        probs = self.probabilities(vectors)
        best = probs.argmax(axis=1)
        return [EmotionGuess(self.labels[int(k)], float(probs[i, k])) for i, k in enumerate(best)]
