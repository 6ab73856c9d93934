"""One topic at a time, as `/voice` encodes it: the ONNX model's topic graph, its fp32 graph
and torch, all at one thread."""

from __future__ import annotations

from bench.perf.common import Latency, now


def bench_topic_encode(onnx, torch_model, topics: list[str],
                       n: int) -> tuple[Latency, Latency, Latency]:
    """(topic path, fp32 graph, torch) latency over ``n`` topics: ``encode_topic(onnx,
    topic)`` as SearchService encodes a topic (the 8-bit topic graph by default),
    ``onnx.encode([topic])`` (the fp32 graph quotes are encoded with) and torch's
    ``encode([topic])``, rotating the order query by query so machine noise hits all alike.
    Both embedders are built with ``threads=1`` (torch's thread count is set to 1 around its
    calls, since FAISS and torch may share one OpenMP runtime)."""
    import torch

    from store.retrieval.embeddings import encode_topic

    threads = torch.get_num_threads()

    def on_torch(topic: str) -> None:
        torch.set_num_threads(1)
        try:
            torch_model.encode([topic])
        finally:
            torch.set_num_threads(threads)

    runs = [lambda t: encode_topic(onnx, t), lambda t: onnx.encode([t]), on_torch]
    for t in topics[:5]:  # warm-up
        for run in runs:
            run(t)
    times: list[list[float]] = [[], [], []]
    for i in range(n):
        topic = topics[i % len(topics)]
        for k in range(3):
            j = (i + k) % 3
            began = now()
            runs[j](topic)
            times[j].append(now() - began)
    return Latency.of(times[0]), Latency.of(times[1]), Latency.of(times[2])
