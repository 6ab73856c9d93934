"""Texts per ONNX Runtime run in a bulk encode: throughput of ``OnnxEmbedder.encode`` at several
batch sizes on the same chunks of real sentences, rotating the order chunk by chunk.

    python bench/onnx_batch.py [--sizes 4,8,16,32,64] [--texts 3072] [--chunk 512]
    python bench/onnx_batch.py --head   # the encoder alone vs with the emotion head's graph
                                        # at one and at two threads (default batch size)

Prints quotes/s per variant and the load average (a shared machine: compare within a run).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> int:
    from bench.perf.common import DEFAULT_DATA
    from bench.perf.corpus import load_corpus
    from bot.config import Settings
    from bot.container import make_embedder

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="4,8,16,32,64")
    p.add_argument("--texts", type=int, default=3072)
    p.add_argument("--chunk", type=int, default=512, help="texts per encode call (an import batch)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--head", action="store_true",
                   help="compare the encoder alone with encoder + emotion head at 1 and 2 threads")
    args = p.parse_args()
    embedder = make_embedder(Settings())  # as `voicebot import`: default threads
    texts = load_corpus(args.data).texts[: args.texts]
    variants: dict[str, Callable[[list[str]], object]]
    if args.head:
        from store.retrieval.embeddings import Tap
        from store.retrieval.emotion import EmotionHead
        from store.retrieval.emotion_onnx import OnnxHead

        head = EmotionHead.load()

        def with_head(threads: int) -> Callable[[list[str]], object]:
            run = OnnxHead(head, threads=threads)
            tap = Tap(head.layer, lambda rows, states, mask: run(states, mask))
            return lambda chunk: embedder.encode(chunk, tap=tap)  # type: ignore[call-arg]

        variants = {"encoder alone": embedder.encode, "with head, 1 thread": with_head(1),
                    "with head, 2 threads": with_head(2)}
    else:
        def batched(size: int) -> Callable[[list[str]], object]:
            return lambda chunk: embedder.encode(chunk, batch_size=size)

        variants = {f"batch {b:>4}": batched(b) for b in (int(x) for x in args.sizes.split(","))}
    for fn in variants.values():
        fn(texts[:64])  # warm-up
    load = os.getloadavg()
    names = list(variants)
    spent = dict.fromkeys(names, 0.0)
    chunks = [texts[i : i + args.chunk] for i in range(0, len(texts), args.chunk)]
    for n, chunk in enumerate(chunks):
        for name in names[n % len(names):] + names[: n % len(names)]:
            t = time.perf_counter()
            variants[name](chunk)
            spent[name] += time.perf_counter() - t
    print(f"load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}; "
          f"{len(texts)} texts in chunks of {args.chunk}")
    for name in names:
        print(f"{name}: {len(texts) / spent[name]:.0f} quotes/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
