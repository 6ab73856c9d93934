#!/usr/bin/env python
"""How precisely ``/voice`` topics must be encoded: the bundled model's fp32 graph against
its 8-bit topic graph (store/retrieval/onnx_quantize.py) and two rejected quantizations.

Stored quotes are always encoded by the fp32 graph; only the topics change. For each topic
encoder: the cosine of its topic vectors to the fp32 ones, the encode time of one topic at one
thread (alternating encoders topic by topic), and retrieval quality (nDCG@10 / P@5 of the
shipped ranking and of plain dense) on the four eval columns of bench/quality.py and the
product-feedback set. Not a test; writes the "topic-precision" section of bench/QUALITY.md.

    .venv/bin/python bench/topic_precision.py [--data DIR] [--no-write]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import quality  # noqa: E402
from quality_data import DEFAULT_DATA, Dataset, Model, load  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.container import make_embedder, prepare_model  # noqa: E402


class Session:
    """One topic encoder: an ONNX graph at one thread on the bundled tokenizer."""

    def __init__(self, path: Path, tokenize) -> None:  # type: ignore[no-untyped-def]
        import onnxruntime as ort

        o = ort.SessionOptions()
        o.intra_op_num_threads = 1
        o.inter_op_num_threads = 1
        o.log_severity_level = 3
        self.s = ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])
        self.tokenize = tokenize

    def __call__(self, text: str) -> np.ndarray:
        ids = np.asarray(self.tokenize([text]), dtype=np.int64)
        out: np.ndarray = self.s.run(["sentence_embedding"], {
            "input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
        return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    settings = Settings(torch_threads=1)
    prepared = prepare_model(settings)
    onnx = make_embedder(settings)
    tokenize = onnx._tokenize  # type: ignore[attr-defined]
    encoders = {"fp32 (the graph quotes are encoded with)": lambda t: onnx.encode([t])[0],
                "**8-bit topic graph (shipped)**": onnx.encode_topic}  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as tmp:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        for label, per_channel in (("dynamic int8, per tensor (rejected)", False),
                                   ("dynamic int8, per channel (rejected)", True)):
            path = Path(tmp) / f"dyn{int(per_channel)}.onnx"
            quantize_dynamic(str(prepared.model_file), str(path), weight_type=QuantType.QInt8,
                             per_channel=per_channel, op_types_to_quantize=["MatMul"])
            encoders[label] = Session(path, tokenize)

        sets = load(args.data, Model())
        cols = [(f"{k} · {d.name}", d) for k, _ in quality.KINDS for d in sets.evals[k]]
        cols.append(("feedback (Dispatchly)", sets.feedback))
        topics = [t for _, d in cols for t, _ in d.topics]

        # one topic at a time, encoders alternating, after a warm-up
        for enc in encoders.values():
            for t in topics[:30]:
                enc(t)
        times: dict[str, list[float]] = {k: [] for k in encoders}
        for t in topics:
            for k, enc in encoders.items():
                began = time.perf_counter()
                enc(t)
                times[k].append((time.perf_counter() - began) * 1000)

        reference = np.vstack([onnx.encode([t])[0] for t in topics])
        rows = []
        for k, enc in encoders.items():
            Q = np.vstack([enc(t) for t in topics])
            Q /= np.linalg.norm(Q, axis=1, keepdims=True)
            cos = (Q * reference).sum(1)
            cells, at = [], 0
            for _, d in cols:
                q = Q[at : at + len(d.topics)]
                at += len(d.topics)
                d2 = Dataset(d.name, d.texts, d.labels, d.topics, d.X, q, d.people)
                cells.append((quality.metrics(d2, quality.rankings(d2, "shipped")),
                              quality.metrics(d2, quality.rankings(d2, "dense"))))
            rows.append((k, cos, times[k], cells))
            print(k, f"cos min {cos.min():.4f} mean {cos.mean():.5f}",
                  f"encode median {statistics.median(times[k]):.2f} ms", flush=True)

    base = rows[0][3]
    head = ("| topic encoder | cosine to fp32 (min / mean) | one topic, 1 thread (median / p95) | "
            + " | ".join(c for c, _ in cols) + " |")
    lines = [head, "|" + "---|" * (3 + len(cols))]
    worst: dict[str, float] = {}
    for k, cos, ms, cells in rows:
        parts = []
        for (sh, de), (sh0, _) in zip(cells, base):
            parts.append(f"{sh[0]:.3f} / {sh[1]:.3f} (dense {de[0]:.3f} / {de[1]:.3f})")
            worst[k] = min(worst.get(k, 0.0), sh[0] - sh0[0], sh[1] - sh0[1])
        p95 = float(np.percentile(ms, 95))
        lines.append(f"| {k} | {cos.min():.4f} / {cos.mean():.5f} | "
                     f"{statistics.median(ms):.2f} / {p95:.2f} ms | " + " | ".join(parts) + " |")
    shipped = "**8-bit topic graph (shipped)**"
    body = "\n".join([
        f"`python bench/topic_precision.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        f" ({len(topics)} topics). Quotes are encoded by the fp32 graph in every row; only the "
        "topic's encoder changes. Cells: nDCG@10 / P@5 of the shipped ranking (plain dense in "
        "brackets). Encode times alternate topic by topic on a shared machine: compare within "
        "the run. `/voice` encodes topics with the shipped 8-bit topic graph "
        "(`VOICEBOT_TOPIC_PRECISION=int8`, the default); the other sections of this report "
        "encode topics in fp32 (sentence-transformers), which this table shows to be "
        "equivalent.",
        "",
        *lines,
        "",
        f"Largest loss of the shipped 8-bit topic graph against fp32 topics on any column and "
        f"metric: {-worst[shipped] * 100:.2f} points (the rejected per-tensor quantization: "
        f"{-min(v for k, v in worst.items() if 'per tensor' in k) * 100:.2f}).",
    ])
    print(body)
    if not args.no_write:
        quality.write_section("topic-precision", "Topic precision (8-bit topic graph)", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
