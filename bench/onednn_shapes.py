"""Resident memory per new input length through the server's encoder, oneDNN on and off.

Encodes 120 texts of 1 to 120 words one at a time, as a capture (vector and emotion in one
pass) and as a `/voice` question, then the same texts again, and prints the growth of the
process's anonymous resident memory and the time per encode. With oneDNN
(``torch.backends.mkldnn.enabled``) each new token count costs a compiled kernel that
stays resident; the server runs with it off (store/retrieval/embeddings.py).

    python bench/onednn_shapes.py on|off      (run each in a fresh process)
    python bench/onednn_shapes.py lengths     (distinct token counts in load.py's captures)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from bot.core.vectors import Encoder  # noqa: E402
from store.retrieval.embeddings import SentenceTransformerEmbedder  # noqa: E402
from store.retrieval.emotion import load_reader  # noqa: E402


def anonymous_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def load_lengths(total: int = 12000, reactions: float = 0.3) -> str:
    """How many distinct token counts the captures of ``bench/load.py --soak-minutes 10``
    bring (its messages, drawn as it draws them), and how many appear after its warm-up."""
    import random

    from transformers import AutoTokenizer

    from bench.load import DEMO
    from store.retrieval.embeddings import bundled_model_path

    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    texts = [line.split(",")[0] for line in DEMO.read_text().splitlines()[1:] if line]
    rng = random.Random(7)
    plan = ["react" if rng.random() < reactions else "voice" for _ in range(total)]
    messages = [f"{rng.choice(texts)} (load {i})" for i in range(plan.count("react"))]
    seen: set[int] = set()
    new_at: list[int] = []
    for i, message in enumerate(messages):
        length = len(tokenizer(message, truncation=True, max_length=256)["input_ids"])
        if length not in seen:
            seen.add(length)
            new_at.append(i)
    late = sum(i >= 0.2 * len(messages) for i in new_at)
    return (f"{len(messages)} captures bring {len(seen)} distinct token counts, {late} of them "
            "after the first 20% of the captures")


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "off"
    if mode == "lengths":
        print(load_lengths())
        return 0
    embedder = SentenceTransformerEmbedder(threads=1)
    torch.backends.mkldnn.enabled = mode == "on"  # the server sets it off
    encoder = Encoder(embedder, load_reader(embedder))
    encoder.warm_up()
    words = "the card never arrived and support kept telling me to wait another week".split()
    texts = [" ".join(words[i % len(words)] for i in range(n)) for n in range(1, 121)]
    for text in texts[:3]:
        encoder.encode([text])
        embedder.encode([text])
    figures = []
    for _ in range(2):  # new lengths, then the same lengths again
        before, t0 = anonymous_kib(), time.perf_counter()
        for text in texts:
            encoder.encode([text])
            embedder.encode([text])
        figures.append(((anonymous_kib() - before) / 1024,
                        (time.perf_counter() - t0) / (2 * len(texts)) * 1000))
    (new_mib, new_ms), (again_mib, again_ms) = figures
    print(f"oneDNN {mode}: {len(texts)} new lengths +{new_mib:.1f} MiB "
          f"({new_mib * 1024 / len(texts):.0f} KiB per length), {new_ms:.1f} ms per encode; "
          f"the same lengths again +{again_mib:.1f} MiB, {again_ms:.1f} ms per encode")
    return 0


if __name__ == "__main__":
    sys.exit(main())
