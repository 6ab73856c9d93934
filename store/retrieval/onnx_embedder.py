"""The bundled all-MiniLM-L6-v2 through ONNX Runtime and ``tokenizers``: no torch.

:class:`OnnxEmbedder` makes the same vectors as
:class:`store.retrieval.embeddings.SentenceTransformerEmbedder` on the bundled model (cosine
>= 0.9999, tests/test_onnx.py), so it carries the same model name and stored vectors stay
valid. Its graph (made by :mod:`store.retrieval.onnx_export`) also outputs the hidden states
entering the emotion head's layer, so :class:`~store.retrieval.embeddings.Tap` works as with
torch: one forward pass for a quote's vector and its emotion. The head itself runs in ONNX
Runtime too (:meth:`OnnxEmbedder.head_runner`, :mod:`store.retrieval.emotion_onnx`), on a
graph built from its weights file when it is loaded.

Topics (:meth:`OnnxEmbedder.encode_topic`) go through the export's 8-bit topic graph
(:mod:`store.retrieval.onnx_quantize`) unless ``topic_precision="fp32"``; both sessions read
one memory-mapped word-embedding table.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from store.errors import EmbeddingModelError
from store.retrieval import onnx_model
from store.retrieval.embeddings import BUNDLED_MODEL_NAME, Progress, Tap
from store.retrieval.emotion_numpy import HeadWeights

log = logging.getLogger(__name__)

#: Texts per ONNX Runtime run in bulk encodes (batches are cut from texts sorted by token
#: count). On the 2-core benchmark machine 8-16 encoded ~1.4x as many quotes per second as 64
#: and 256 half as many (`python bench/onnx_batch.py`, a shared machine; see its output).
BATCH_SIZE = 16
TOPIC_PRECISIONS = ("int8", "fp32")


class OnnxEmbedder:
    """Sentence vectors (and a tapped layer's input) from the exported bundled model."""

    def __init__(self, prepared: onnx_model.Prepared, model_path: str | Path, *,
                 threads: int | None = None, topic_precision: str = "int8") -> None:
        """``threads``: ONNX Runtime intra-op threads (None: one per core).
        ``topic_precision``: "int8" encodes topics with the 8-bit topic graph, "fp32" with
        the full one (exactly the stored vectors' model)."""
        if topic_precision not in TOPIC_PRECISIONS:
            raise ValueError(f"topic_precision must be one of {TOPIC_PRECISIONS}")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = BUNDLED_MODEL_NAME
        manifest = prepared.manifest
        self.dim = int(manifest["dim"])
        self.tap_layer: int | None = manifest.get("tap_layer")
        self.threads = threads
        self._fingerprints: dict[str, str | None] = dict(manifest.get("fingerprints", {}))
        root = Path(model_path)
        max_len = int(manifest.get("max_seq_length") or json.loads(
            (root / "sentence_bert_config.json").read_text())["max_seq_length"])
        try:
            self._tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
        except Exception as exc:
            raise EmbeddingModelError(f"cannot read the tokenizer in {root}: {exc}") from exc
        self._tokenizer.enable_truncation(max_length=max_len)
        self._tokenizer.no_padding()
        if not prepared.checked:
            prepared = onnx_model.verify(prepared)
        # one word-embedding table for both sessions, memory-mapped: only the rows of tokens
        # seen are read in (ONNX Runtime uses a given initializer's memory as is)
        table = np.load(prepared.embeddings_file, mmap_mode="r")
        self._table_map = table
        self._table = ort.OrtValue.ortvalue_from_numpy(table)
        self._table_name = str(manifest["topic"]["word_embeddings"])

        def session(path: Path, threads: int | None) -> Any:
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.inter_op_num_threads = 1
            if threads:
                options.intra_op_num_threads = threads
            # Idle pool threads sleep instead of spinning: between batches the emotion head
            # (NumPy) and the database need the cores, and the machine is shared.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            options.add_initializer(self._table_name, self._table)
            try:  # from the path: given bytes, ONNX Runtime's Python session keeps them
                return ort.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])
            except Exception as exc:
                raise EmbeddingModelError(f"cannot load {path}: {exc}") from exc

        self._session = session(prepared.model_file, threads)
        self.topic_precision = topic_precision
        # a topic is one short text: one thread (a second one costs more to wake than it saves)
        self._topic_session: Any = session(prepared.topic_file, 1) if topic_precision == "int8" \
            else None
        self._outputs = [o.name for o in self._session.get_outputs()]
        self._lock = threading.Lock()
        self._topic_lock = threading.Lock()

    def fingerprint(self, layer: int) -> str | None:
        """As ``SentenceTransformerEmbedder.fingerprint``, recorded at export; None for a
        layer whose input this graph does not output."""
        if layer != self.tap_layer:
            return None
        return self._fingerprints.get(str(layer))

    def head_runner(self, head: HeadWeights) -> Any:
        """The emotion head's layer as an ONNX Runtime session at one thread
        (:class:`~store.retrieval.emotion_onnx.OnnxHead`), or None when its graph cannot be
        written (the head then runs in NumPy: the same results, slower). One thread: a
        batch's head is a twelfth of its encoder's work, in ops too small to be worth waking
        a second thread for (under load, the encoder plus the head encoded 57 quotes/s with
        the head at one thread, 52/s at two, the encoder alone 59/s:
        `python bench/onnx_batch.py --head`)."""
        from store.retrieval.emotion_onnx import OnnxHead

        try:
            return OnnxHead(head, threads=1)
        except (TypeError, ValueError) as exc:  # e.g. weights of a type the writer lacks
            log.warning("the emotion head runs in NumPy (slower): cannot write its ONNX "
                        "graph: %s", exc)
            return None

    def _tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        if len(texts) == 1:  # a topic: encode_batch's hand-off to its thread pool cost ~1 ms
            return [self._tokenizer.encode(texts[0], add_special_tokens=True).ids]
        return [e.ids for e in self._tokenizer.encode_batch(list(texts),
                                                            add_special_tokens=True)]

    def _run(self, ids: list[list[int]], tapped: bool,
             topic: bool = False) -> tuple[np.ndarray, Any, np.ndarray]:
        """One ONNX Runtime run over ``ids`` (padded to the longest), on the topic graph when
        ``topic`` (which outputs only the vectors)."""
        width = max(len(x) for x in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, x in enumerate(ids):
            input_ids[row, : len(x)] = x
            mask[row, : len(x)] = 1
        wanted = self._outputs if tapped else self._outputs[:1]
        session, lock = (self._topic_session, self._topic_lock) if topic \
            else (self._session, self._lock)
        with lock:
            result = session.run(wanted, {"input_ids": input_ids, "attention_mask": mask})
        return result[0], (result[1] if tapped else None), mask

    def touch_weights(self) -> int:
        """Read the memory-mapped word-embedding table once; returns its size in bytes.

        A page of the table becomes resident when a token on it is first seen, so resident
        memory would creep up with the vocabulary of new quotes and topics, up to the whole
        table (47 MiB; bench/LOAD.md found the same with torch's memory-mapped weights). Read
        at start-up (``Encoder.warm_up``), it is resident from the start and serving no
        longer grows it. The pages stay file-backed: clean, and shared by every process
        that maps the same export."""
        raw = np.asarray(self._table_map).reshape(-1).view(np.uint8)
        int(raw[:: 4096].sum(dtype=np.uint64))  # one byte of every page
        return int(raw.nbytes)

    def encode_topic(self, topic: str) -> np.ndarray:
        """The unit vector of one ``/voice`` topic, by the 8-bit topic graph (cosine >= 0.99
        to :meth:`encode`'s; the full graph when ``topic_precision="fp32"``). Topic vectors
        are compared with stored ones, never stored."""
        if self._topic_session is None:
            vector: np.ndarray = self.encode([topic])[0]
            return vector
        vectors, _, _ = self._run(self._tokenize([topic]), False, topic=True)
        topic_vector: np.ndarray = vectors[0]
        return topic_vector

    def encode(
        self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
        tap: Tap | None = None,
    ) -> np.ndarray:
        """Unit vectors for ``texts``; batches are made of texts of similar token counts
        (longest first), each run holds the lock so a query waits for one batch at most."""
        if tap is not None and tap.layer != self.tap_layer:
            raise ValueError(f"this ONNX export outputs the input of layer {self.tap_layer}, "
                             f"not {tap.layer}")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        ids = self._tokenize(texts)
        order = np.argsort([-len(x) for x in ids], kind="stable")
        step = max(batch_size, 1)
        for start in range(0, len(texts), step):
            rows = order[start : start + step]
            vecs, states, mask = self._run([ids[i] for i in rows], tap is not None)
            out[rows] = vecs
            if tap is not None:
                tap.consume(rows, states, mask)
            if progress:
                progress(len(rows))
        return out
