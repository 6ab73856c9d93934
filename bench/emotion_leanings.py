"""The conflict rule with and without the text's leanings (store/retrieval/cues.py), on every
set the emotion head is scored on: product dev (tuning), the sanity set and the polarity
hold-out (tests), GoEmotions dev and test.

    .venv/bin/python bench/emotion_leanings.py [--data ../shared/data]

Scores end to end through ``EmotionReader`` with the packaged head, as
``bench/emotion_sanity_split.py`` does: no emotion is scored as neutral; the product sets'
sarcasm and ambiguous lines are left out of macro-F1 and inversions. Prints a Markdown table
(bench/EMOTION.md, "Leanings").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_emotion import (  # noqa: E402
    PRODUCT_DEV,
    REPO,
    SANITY_SET,
    load_split,
    load_tsv,
    macro_f1,
    product_scores,
    with_threshold,
)

from store.retrieval import cues as text_cues  # noqa: E402
from store.retrieval.embeddings import SentenceTransformerEmbedder  # noqa: E402
from store.retrieval.emotion import load_reader  # noqa: E402

HOLDOUT = REPO / "tests" / "data" / "emotion_polarity_holdout.tsv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data",
                    help="directory holding goemotions/{dev,test}.jsonl (skipped if absent)")
    args = ap.parse_args()
    reader = load_reader(SentenceTransformerEmbedder())
    if reader is None:
        sys.exit("error: the packaged emotion head does not fit the bundled model")
    head = reader.head
    sets: list[tuple[str, list[str], np.ndarray, list[set[str]] | None]] = []
    for name, path in (("product dev", PRODUCT_DEV), ("sanity set", SANITY_SET),
                       ("polarity hold-out", HOLDOUT)):
        texts, y, tags = load_tsv(path)
        sets.append((name, texts, y, tags))
    for split in ("dev", "test"):
        path = args.data / "goemotions" / f"{split}.jsonl"
        if path.is_file():
            texts, y, keep, _ = load_split(path)
            sets.append((f"GoEmotions {split}", [t for t, k in zip(texts, keep) if k], y[keep],
                         None))
    print(f"head threshold {head.threshold:.2f}, conflict threshold "
          f"{head.conflict_threshold:.2f}, {text_cues.LEANINGS}\n")
    print("| set | lines | macro-F1 without / with leanings | inversions without / with | "
          "no emotion (all lines) without / with |")
    print("|---|---|---|---|---|")
    for name, texts, y, tags in sets:
        probs = reader.probabilities(texts)[1]
        values = text_cues.cues(texts)
        cells = []
        for lean in (None, text_cues.leanings(texts)):
            signs = text_cues.polarity(values, lean)
            if tags is None:
                scores = product_scores(y, probs, [set()] * len(y), head.threshold, signs,
                                        head.conflict_threshold)
                scores["f1"] = macro_f1(y, with_threshold(probs, head.threshold, signs,
                                                          head.conflict_threshold))
                scores["inv"] = scores["inv_all"]
            else:
                scores = product_scores(y, probs, tags, head.threshold, signs,
                                        head.conflict_threshold)
            cells.append(scores)
        lines = cells[0]["n_plain"] if tags is not None else len(y)
        print(f"| {name} | {lines} | {cells[0]['f1']:.3f} / {cells[1]['f1']:.3f} | "
              f"{cells[0]['inv']} / {cells[1]['inv']} | {cells[0]['abstain']} / "
              f"{cells[1]['abstain']} |", flush=True)


if __name__ == "__main__":
    main()
