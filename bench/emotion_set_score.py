"""Emotion heads on one product-feedback set, end to end (macro-F1, polarity inversions).

    .venv/bin/python bench/emotion_set_score.py [--set TSV] [--lines] HEAD [HEAD ...]

Each HEAD is a head file's path or ``REV:PATH`` from git (e.g.
``6ffb16c:store/data/emotion_head.npz``). ``--set`` defaults to the product dev set
(bench/data/emotion_product_dev.tsv); any file in its columns works. Scored as
``bench/train_emotion.py`` scores product sets: through ``EmotionReader`` from the raw text, no
emotion counted as neutral, sarcasm and ambiguous lines left out of the macro-F1 and of the
first inversion count. ``--lines`` also prints the inverted lines.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_emotion import PRODUCT_DEV, load_tsv, padded, product_scores, read_head  # noqa: E402

from store.retrieval import cues as text_cues  # noqa: E402
from store.retrieval.embeddings import SentenceTransformerEmbedder  # noqa: E402
from store.retrieval.emotion import EMOTIONS, EmotionHead, EmotionReader  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("heads", nargs="+", metavar="head", help="path or REV:PATH")
    ap.add_argument("--set", type=Path, default=PRODUCT_DEV)
    ap.add_argument("--lines", action="store_true", help="print the inverted lines")
    args = ap.parse_args()
    texts, y, tags = load_tsv(args.set)
    values = text_cues.cues(texts)
    embedder = SentenceTransformerEmbedder()
    print(f"{args.set}: {len(texts)} lines")
    for spec in args.heads:
        with np.load(read_head(spec)) as f:
            head = EmotionHead(padded({k: f[k] for k in f.files}))
        probs = EmotionReader(embedder, head).probabilities(texts)[1]
        s = product_scores(y, probs, tags, head.threshold, values, head.conflict_threshold)
        print(f"{spec}: macro-F1 {s['f1']:.3f} ({s['n_plain']} unambiguous lines), inversions "
              f"{s['inv']} (all lines {s['inv_all']}), no emotion {s['abstain']} (threshold "
              f"{head.threshold:.2f}, conflict threshold {head.conflict_threshold:.2f})")
        for i in s["inverted"] if args.lines else ():
            print(f"  {EMOTIONS[y[i]]} -> {EMOTIONS[int(probs[i].argmax())]} "
                  f"({probs[i].max():.2f}): {texts[i]}")


if __name__ == "__main__":
    main()
