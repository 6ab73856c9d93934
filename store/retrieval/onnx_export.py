"""Export a sentence-transformers BERT model (the bundled all-MiniLM-L6-v2) to ONNX.

``python -m store.retrieval.onnx_export MODEL_DIR OUT_DIR --key KEY [--tap-layer N]``, run by
:func:`store.retrieval.onnx_model.prepare` in a child process: this is the one place of the
serving path that imports torch. The graph takes ``input_ids`` and ``attention_mask``
(batch x tokens, int64) and returns

- ``sentence_embedding``: mean pooling over real tokens, L2-normalised, as
  ``SentenceTransformer.encode(normalize_embeddings=True)`` makes it;
- ``hidden_states``: with ``--tap-layer N``, the hidden states entering transformer layer N
  (what :class:`store.retrieval.embeddings.Tap` hands the emotion head).

Beside it, derived from it without torch: ``topic.onnx``, the same graph with 8-bit weights
for ``/voice`` topics (:mod:`store.retrieval.onnx_quantize`), and ``word_embeddings.npy``, the
word-embedding table both sessions share.

The export is deterministic for a given torch version and weights (tests compare two
exports byte for byte). ``manifest.json`` records the file's sha256, the key, and each
layer's weight fingerprint (``SentenceTransformerEmbedder.fingerprint``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from store.retrieval.onnx_model import (
    EMBEDDINGS_FILE,
    EXPORTER_VERSION,
    MANIFEST_FILE,
    MODEL_FILE,
    OPSET,
    TOPIC_FILE,
)


def derive_topic_files(out: Path) -> dict[str, str]:
    """Write ``topic.onnx`` and ``word_embeddings.npy`` from ``out/model.onnx``; returns
    each file's sha256 by file name, and the table's initializer name under "name".
    Deterministic: the same model gives the same bytes."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    from store.retrieval import onnx_quantize

    model = onnx.load(str(out / MODEL_FILE))
    name = onnx_quantize.word_embeddings_name(model)
    table = next(i for i in model.graph.initializer if i.name == name)
    np.save(out / EMBEDDINGS_FILE, np.ascontiguousarray(numpy_helper.to_array(table),
                                                        dtype=np.float32))
    onnx.save(onnx_quantize.topic_graph(model), str(out / TOPIC_FILE))
    return {"name": name, **{f: hashlib.sha256((out / f).read_bytes()).hexdigest()
                             for f in (TOPIC_FILE, EMBEDDINGS_FILE)}}


def export(model_dir: str, out_dir: str, key: str, tap_layer: int | None) -> dict[str, Any]:
    """Write ``model.onnx`` and ``manifest.json`` into ``out_dir``; returns the manifest."""
    import torch

    from store.retrieval import onnx_quantize
    from store.retrieval.embeddings import SentenceTransformerEmbedder

    torch.manual_seed(0)
    st = SentenceTransformerEmbedder(model_dir, threads=1)
    model: Any = st._model
    bert: Any = model[0].auto_model
    bert.config._attn_implementation = "eager"  # plain ops, the same on every torch build
    bert.eval()
    layers = st.transformer_layers()
    n_layers = len(layers) if layers is not None else 0
    if tap_layer is not None and not 0 <= tap_layer < n_layers:
        raise SystemExit(f"model has no transformer layer {tap_layer}")

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                            token_type_ids=torch.zeros_like(input_ids),
                            output_hidden_states=tap_layer is not None, return_dict=True)
            tokens = out.last_hidden_state
            m = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * m).sum(1) / m.sum(1).clamp(min=1e-9)
            vec = torch.nn.functional.normalize(pooled, p=2.0, dim=1)
            if tap_layer is None:
                return vec
            return vec, out.hidden_states[tap_layer]

    outputs = ["sentence_embedding"] + (["hidden_states"] if tap_layer is not None else [])
    dynamic = {"input_ids": {0: "batch", 1: "tokens"},
               "attention_mask": {0: "batch", 1: "tokens"},
               "sentence_embedding": {0: "batch"}}
    if tap_layer is not None:
        dynamic["hidden_states"] = {0: "batch", 1: "tokens"}
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    out = Path(out_dir)
    target = out / MODEL_FILE
    with torch.inference_mode():
        torch.onnx.export(Graph().eval(), (ids, mask), str(target),
                          input_names=["input_ids", "attention_mask"], output_names=outputs,
                          dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True,
                          dynamo=False)
    data = target.read_bytes()
    derived = derive_topic_files(out)
    table_name = derived.pop("name")
    manifest = {
        "key": key,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "exporter_version": EXPORTER_VERSION,
        "opset": OPSET,
        "torch": torch.__version__,
        "dim": st.dim,
        "max_seq_length": model.max_seq_length,
        "tap_layer": tap_layer,
        "fingerprints": {str(n): st.fingerprint(n) for n in range(1, n_layers + 1)},
        "outputs": outputs,
        "files": derived,
        "topic": {"file": TOPIC_FILE, "bits": onnx_quantize.BITS, "block": onnx_quantize.BLOCK,
                  "accuracy_level": onnx_quantize.ACCURACY_LEVEL,
                  "shares": EMBEDDINGS_FILE, "word_embeddings": table_name},
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                     encoding="utf-8")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--key", required=True)
    parser.add_argument("--tap-layer", type=int, default=None)
    args = parser.parse_args()
    export(args.model_dir, args.out_dir, args.key, args.tap_layer)


if __name__ == "__main__":
    main()
