"""Emotion of a quote, read from the same forward pass that makes its sentence vector.

The head is a fine-tuned copy of all-MiniLM-L6-v2's top transformer layer plus a linear
classifier over its mean-pooled tokens, plus learned weights on emoji and negation cues read
from the raw text (:mod:`store.retrieval.cues`), trained by ``bench/train_emotion.py`` on
GoEmotions mapped to five classes and on product-feedback lines (see ``bench/EMOTION.md``).
At run time the embedder hands over the hidden states entering that layer
(:class:`store.retrieval.embeddings.Tap`); the head runs its own copy of the layer on them, so
a quote is encoded once for both its vector and its emotion. Below the confidence threshold
measured on dev the head shows no emotion rather than a wrong one (label None); so it does,
below a second threshold measured on dev, when the text's cues point to the other polarity
(praise lost or taken back, yet labelled delighted; relief, yet labelled frustrated), the
cues counted with the text's leanings (:func:`store.retrieval.cues.leanings`: phrasings the
head misreads, which feed this rule only). Weights ship in ``store/data/emotion_head.npz``
(float16 matrices, a few MB); ``version`` (a hash of that file and of the leaning rules) is
stored with each guessed emotion so that a new head, or new rules, re-read them.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from store.retrieval import cues as text_cues
from store.retrieval.embeddings import Progress, Tap
from store.vocab import EMOTIONS  # noqa: F401 - the head's classes, in output order

if TYPE_CHECKING:
    import torch


log = logging.getLogger(__name__)

#: Scores hidden states (B, T, D) and their mask (B, T) before the text cues.
BaseLogits = Callable[[np.ndarray, np.ndarray], np.ndarray]

_PACKAGE = "store"
_RESOURCE = "data/emotion_head.npz"
# One transformer layer, named like a BERT layer; each block's arrays are prefixed "b{n}.".
BLOCK_ARRAYS = ("q_w", "q_b", "k_w", "k_b", "v_w", "v_b", "o_w", "o_b", "ln1_w", "ln1_b",
                "i_w", "i_b", "out_w", "out_b", "ln2_w", "ln2_b")
_META = ("labels", "layer", "blocks", "heads", "eps", "fingerprint", "model", "head_w",
         "head_b", "temperature", "bias", "cue_w", "cues", "threshold", "conflict_threshold")

#: The emotions on the unhappy side: labelling one of these delighted (or a delighted line
#: one of these) is a polarity inversion, the error that destroys trust in every label.
NEGATIVE_EMOTIONS = ("frustrated", "disappointed")


@dataclass(frozen=True)
class EmotionGuess:
    """One predicted emotion and the calibrated softmax probability of that class.

    ``label`` is None when the head is unsure (``confidence`` below its threshold, or below
    its conflict threshold when the text's cues point to the other polarity): show no
    emotion rather than a wrong one. ``version`` identifies the head that guessed."""

    label: str | None
    confidence: float
    version: str = ""


def _block_array(a: np.ndarray) -> np.ndarray:
    """A block's weights as held in memory: float16 matrices stay as shipped (half the memory,
    in a server that runs the head in ONNX Runtime and never reads them; each use widens them,
    exactly), everything else float32."""
    keep = a.ndim == 2 and a.dtype == np.float16
    return np.asarray(a, np.float16 if keep else np.float32)


class EmotionHead:
    """Fine-tuned top layer(s) + mean pooling + linear classifier, calibrated by temperature.

    ``layer`` is the index of the first transformer layer the head replaces: it reads the
    hidden states entering that layer. ``fingerprint`` identifies the model whose lower layers
    produce those states (``SentenceTransformerEmbedder.fingerprint``).
    """

    def __init__(self, arrays: dict[str, np.ndarray], *, where: str = "emotion head",
                 version: str = "") -> None:
        missing = [k for k in _META if k not in arrays]
        if missing:
            raise ValueError(f"{where}: emotion head is missing arrays {missing}")
        self.labels = tuple(str(x) for x in arrays["labels"])
        self.layer = int(arrays["layer"])
        self.heads = int(arrays["heads"])
        self.eps = float(arrays["eps"])
        self.fingerprint = str(arrays["fingerprint"])
        self.model = str(arrays["model"])
        self.temperature = float(np.asarray(arrays["temperature"]).reshape(-1)[0])
        n_blocks = int(arrays["blocks"])
        self.blocks = []
        for b in range(n_blocks):
            keys = [f"b{b}.{k}" for k in BLOCK_ARRAYS]
            absent = [k for k in keys if k not in arrays]
            if absent:
                raise ValueError(f"{where}: emotion head is missing arrays {absent}")
            self.blocks.append({k: _block_array(arrays[f"b{b}.{k}"]) for k in BLOCK_ARRAYS})
        self.head_w = np.asarray(arrays["head_w"], np.float32)
        self.head_b = np.asarray(arrays["head_b"], np.float32).reshape(-1)
        self.bias = np.asarray(arrays["bias"], np.float32).reshape(-1)
        self.cue_w = np.asarray(arrays["cue_w"], np.float32)
        self.threshold = float(np.asarray(arrays["threshold"]).reshape(-1)[0])
        #: below this confidence a label whose polarity the text's cues contradict is not shown
        self.conflict_threshold = float(np.asarray(arrays["conflict_threshold"]).reshape(-1)[0])
        if str(arrays["cues"]) != text_cues.VERSION:
            raise ValueError(f"{where}: emotion head was trained on cues {str(arrays['cues'])!r}, "
                             f"this code makes {text_cues.VERSION!r}")
        if not 0 <= self.threshold < 1:
            raise ValueError(f"{where}: threshold must be in [0, 1), got {self.threshold}")
        if not 0 <= self.conflict_threshold <= 1:
            raise ValueError(f"{where}: conflict_threshold must be in [0, 1], got "
                             f"{self.conflict_threshold}")
        #: identifies these weights: stored with each guessed emotion (``emotion_model``)
        self.version = version or hashlib.sha256(
            b"".join(np.ascontiguousarray(arrays[k]).tobytes() for k in sorted(arrays))
            + text_cues.LEANINGS.encode()).hexdigest()[:12]
        n_out = len(self.labels)
        dim = self.head_w.shape[1] if self.head_w.ndim == 2 else -1
        if (n_blocks < 1 or self.head_w.shape != (n_out, dim) or self.head_b.shape != (n_out,)
                or self.bias.shape != (n_out,) or dim % self.heads
                or self.cue_w.shape != (n_out, len(text_cues.CUES))
                or any(blk["q_w"].shape != (dim, dim) or blk["i_w"].shape[1:] != (dim,)
                       or blk["out_w"].shape != (dim, blk["i_w"].shape[0])
                       for blk in self.blocks)):
            raise ValueError(
                f"{where}: inconsistent emotion head shapes: {n_blocks} blocks, head_w "
                f"{self.head_w.shape}, head_b {self.head_b.shape}, bias {self.bias.shape}, "
                f"{n_out} labels, {self.heads} attention heads")
        if not self.temperature > 0:
            raise ValueError(f"{where}: temperature must be > 0, got {self.temperature}")
        self.dim = dim
        self._torch: list[dict[str, Any]] | None = None

    # -- loading ----------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> EmotionHead:
        """Load weights from ``path``, or the packaged ``store/data/emotion_head.npz``."""
        if path is None:
            ref = resources.files(_PACKAGE).joinpath(_RESOURCE)
            with ref.open("rb") as fh:
                return cls._from(fh, str(ref))
        with open(path, "rb") as fh:
            return cls._from(fh, str(path))

    @classmethod
    def _from(cls, fh: IO[bytes], where: str) -> EmotionHead:
        raw = fh.read()
        # the rules that withhold a label are part of what guessed (cues.LEANINGS)
        version = hashlib.sha256(raw + text_cues.LEANINGS.encode()).hexdigest()[:12]
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            return cls({k: data[k] for k in data.files}, where=where, version=version)

    def fits(self, embedder: object) -> bool:
        """Whether ``embedder`` makes the hidden states this head was trained on."""
        fingerprint = getattr(embedder, "fingerprint", None)
        return callable(fingerprint) and fingerprint(self.layer) == self.fingerprint

    # -- inference --------------------------------------------------------------
    def _weights(self) -> list[dict[str, Any]]:
        if self._torch is None:
            import torch

            self._torch = [{k: torch.from_numpy(v.astype(np.float32)) for k, v in blk.items()}
                           for blk in self.blocks]
        return self._torch

    def logits(self, states: torch.Tensor | np.ndarray, mask: torch.Tensor | np.ndarray,
               texts: Sequence[str], *, run: BaseLogits | None = None,
               cue_values: np.ndarray | None = None) -> np.ndarray:
        """Raw class scores for a batch: ``states`` (B, T, D) entering ``layer``, ``mask``
        (B, T) with 1 for real tokens, and the batch's ``texts`` (for the emoji and negation
        cues, :mod:`store.retrieval.cues`; ``cue_values``, when given, are those texts'
        ``cues.cues`` rows, already computed). ``run`` scores the states before the cues (the
        ONNX embedder's :class:`~store.retrieval.emotion_onnx.OnnxHead`); without it NumPy
        arrays are scored without torch (:func:`store.retrieval.emotion_numpy.logits`, the
        same math), tensors with torch."""
        if run is not None:
            base = run(np.asarray(states), np.asarray(mask))
        elif isinstance(states, np.ndarray):
            from store.retrieval.emotion_numpy import logits as numpy_logits

            base = numpy_logits(self, states, np.asarray(mask))
        else:
            base = self._torch_logits(states, mask)  # type: ignore[arg-type]  # torch here
        if cue_values is None:
            cue_values = text_cues.cues(texts)
        scores: np.ndarray = base + cue_values @ self.cue_w.T
        return scores

    def _torch_logits(self, states: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        x = states.detach().to(torch.float32)
        keep = mask.to(torch.bool)
        batch, length, dim = x.shape
        head_dim = dim // self.heads
        with torch.inference_mode():
            for w in self._weights():
                def split(t: torch.Tensor) -> torch.Tensor:
                    return t.view(batch, length, self.heads, head_dim).transpose(1, 2)

                q = split(F.linear(x, w["q_w"], w["q_b"]))
                k = split(F.linear(x, w["k_w"], w["k_b"]))
                v = split(F.linear(x, w["v_w"], w["v_b"]))
                att = (q @ k.transpose(-1, -2)) / math.sqrt(head_dim)
                att = att.masked_fill(~keep[:, None, None, :], -1e4).softmax(-1)
                ctx = (att @ v).transpose(1, 2).reshape(batch, length, dim)
                x = F.layer_norm(x + F.linear(ctx, w["o_w"], w["o_b"]), (dim,),
                                 w["ln1_w"], w["ln1_b"], self.eps)
                ffn = F.linear(F.gelu(F.linear(x, w["i_w"], w["i_b"])), w["out_w"], w["out_b"])
                x = F.layer_norm(x + ffn, (dim,), w["ln2_w"], w["ln2_b"], self.eps)
            m = keep[..., None].to(torch.float32)
            pooled = (x * m).sum(1) / m.sum(1).clamp(min=1.0)
        base: np.ndarray = pooled.numpy() @ self.head_w.T + self.head_b
        return base

    def probabilities_from_logits(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated probabilities: ``softmax(logits / temperature + bias)``."""
        z = np.asarray(logits, np.float64) / self.temperature + self.bias
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        probabilities: np.ndarray = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
        return probabilities

    def guesses(self, probabilities: np.ndarray, cue_values: np.ndarray | None = None,
                leaning: np.ndarray | None = None) -> list[EmotionGuess]:
        """The most probable class per row, or no label below ``threshold``; nor below
        ``conflict_threshold`` when the row's text cues (``cue_values``, rows of
        :func:`store.retrieval.cues.cues`, with ``leaning``, :func:`~store.retrieval.cues.
        leanings`) point to the other polarity (:func:`contradicted`)."""
        best = probabilities.argmax(axis=1)
        signs = (np.zeros(len(best), np.int8) if cue_values is None
                 else text_cues.polarity(cue_values, leaning))
        out = []
        for i, k in enumerate(best):
            confidence = float(probabilities[i, k])
            label: str | None = self.labels[int(k)]
            if confidence < self.threshold or (confidence < self.conflict_threshold
                                               and contradicted(label, int(signs[i]))):
                label = None
            out.append(EmotionGuess(label, confidence, self.version))
        return out


class EmotionReader:
    """Vectors and emotions from one pass of a sentence-transformers embedder."""

    def __init__(self, embedder: Any, head: EmotionHead) -> None:
        if not head.fits(embedder):
            raise ValueError(f"the emotion head was trained on {head.model}'s layers; "
                             f"model {getattr(embedder, 'name', '?')!r} does not make them")
        self.embedder = embedder
        self.head = head
        # The ONNX embedder runs the head's layer in ONNX Runtime too (emotion_onnx.py);
        # otherwise EmotionHead.logits does (torch tensors, or NumPy arrays in NumPy).
        runner = getattr(embedder, "head_runner", None)
        self.run: BaseLogits | None = runner(head) if callable(runner) else None

    def probabilities(self, texts: Sequence[str], *, batch_size: int | None = None,
                      progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(vectors, probabilities)`` for ``texts``: columns in ``head.labels`` order."""
        vectors, probs, _ = self._read(texts, batch_size, progress)
        return vectors, probs

    def _read(self, texts: Sequence[str], batch_size: int | None,
              progress: Progress | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(vectors, probabilities, cue values)``: the cues are read from each text once,
        for the logits and for the conflict rule (:meth:`encode`)."""
        probs = np.zeros((len(texts), len(self.head.labels)), np.float32)
        values = text_cues.cues(texts)

        def consume(rows: np.ndarray, states: Any, mask: Any) -> None:
            batch = [texts[int(i)] for i in rows]
            probs[rows] = self.head.probabilities_from_logits(
                self.head.logits(states, mask, batch, run=self.run, cue_values=values[rows]))

        sizes = {} if batch_size is None else {"batch_size": batch_size}  # None: the embedder's
        vectors = self.embedder.encode(texts, **sizes, progress=progress,
                                       tap=Tap(self.head.layer, consume))
        return vectors, probs, values

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None,
               progress: Progress | None = None) -> tuple[np.ndarray, list[EmotionGuess]]:
        """``(vectors, guesses)`` for ``texts``, in order (the text cues feed both the
        logits and the conflict rule; the texts' leanings only the rule)."""
        vectors, probs, values = self._read(texts, batch_size, progress)
        return vectors, self.head.guesses(probs, values, text_cues.leanings(texts))


def load_reader(embedder: Any, path: str | Path | None = None) -> EmotionReader | None:
    """The packaged head wired to ``embedder``, or None (logged) when it does not fit."""
    if not callable(getattr(embedder, "fingerprint", None)):  # e.g. the tests' hashing one
        log.debug("embedder %r has no transformer layers; emotions are off",
                  getattr(embedder, "name", "?"))
        return None
    try:
        head = EmotionHead.load(path)
    except FileNotFoundError:
        log.warning("emotion head weights are missing from the package; emotions are off")
        return None
    if not head.fits(embedder):
        log.warning("the emotion head was trained on %s; model %r makes different hidden "
                    "states, so emotions are off (retrain with bench/train_emotion.py)",
                    head.model, getattr(embedder, "name", "?"))
        return None
    return EmotionReader(embedder, head)


def inverted(true: str, shown: str | None) -> bool:
    """Whether showing ``shown`` for a line whose emotion is ``true`` flips its polarity."""
    return ((true in NEGATIVE_EMOTIONS and shown == "delighted")
            or (true == "delighted" and shown in NEGATIVE_EMOTIONS))


def contradicted(label: str | None, polarity: int) -> bool:
    """Whether cues pointing to ``polarity`` (:func:`store.retrieval.cues.polarity`: -1
    unhappy, +1 delighted) contradict ``label``."""
    return ((label == "delighted" and polarity < 0)
            or (label in NEGATIVE_EMOTIONS and polarity > 0))
