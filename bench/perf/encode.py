"""One topic at a time, as `/voice` encodes it: the ONNX model and torch, both at one thread."""

from __future__ import annotations

from bench.perf.common import Latency, now


def bench_topic_encode(onnx, torch_model, topics: list[str], n: int) -> tuple[Latency, Latency]:
    """(ONNX, torch) latency of ``encode([topic])`` over ``n`` topics, alternating the two
    query by query so machine noise hits both alike. Both embedders are built with
    ``threads=1`` (torch's thread count is set to 1 around its calls, since FAISS and
    torch may share one OpenMP runtime)."""
    import torch

    threads = torch.get_num_threads()
    for t in topics[:5]:  # warm-up
        onnx.encode([t])
        torch_model.encode([t])
    a, b = [], []
    for i in range(n):
        topic = topics[i % len(topics)]
        for first in ((True, False) if i % 2 else (False, True)):
            if first:
                t = now()
                onnx.encode([topic])
                a.append(now() - t)
            else:
                torch.set_num_threads(1)
                try:
                    t = now()
                    torch_model.encode([topic])
                    b.append(now() - t)
                finally:
                    torch.set_num_threads(threads)
    return Latency.of(a), Latency.of(b)
