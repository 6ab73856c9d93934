"""The emotion head on the sanity set, split into the lines a commit already had and the lines
added after it (held-out lines written for a change are reported apart from the older ones).

    .venv/bin/python bench/emotion_sanity_split.py [REV ...] [--head PATH|REV:PATH]
        [--no-conflict] [--set bench/data/emotion_product_dev.tsv]

With several commits (oldest first) the lines are split at each: the lines the first had, the
lines each later one added, and the lines added after the last. With no commit, only the
whole set is scored. ``--set`` scores another file of the sanity set's format (default: the
sanity set itself).

Scores end to end through ``EmotionReader`` as ``bench/train_emotion.py`` does (no emotion is
scored as neutral; sarcasm and ambiguous lines are left out of the macro-F1 and inversions).
``--head`` reads a head file from a path or from git (default: the packaged head); an older
head without a conflict threshold behaves as it did.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_emotion import (  # noqa: E402
    REPO,
    SANITY_SET,
    load_tsv,
    padded,
    product_scores,
    read_head,
    signs,
)

from store.retrieval.embeddings import SentenceTransformerEmbedder  # noqa: E402
from store.retrieval.emotion import EMOTIONS, EmotionHead, EmotionReader  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("revs", nargs="*", metavar="rev",
                    help="commits (oldest first) whose sanity lines count as the older ones")
    ap.add_argument("--head", default=str(REPO / "store" / "data" / "emotion_head.npz"))
    ap.add_argument("--no-conflict", action="store_true", help="conflict threshold 0")
    ap.add_argument("--set", type=Path, default=SANITY_SET,
                    help="a file in the sanity set's format (default: the sanity set)")
    args = ap.parse_args()
    scored = args.set if args.set.is_absolute() else REPO / args.set
    had: list[set[str]] = []  # the lines each commit had
    with tempfile.TemporaryDirectory() as tmp:
        for rev in args.revs:
            before = subprocess.run(["git", "-C", str(REPO), "show",
                                     f"{rev}:{scored.relative_to(REPO)}"],
                                    capture_output=True, text=True, check=True).stdout
            old_file = Path(tmp) / "before.tsv"
            old_file.write_text(before, encoding="utf-8")
            had.append(set(load_tsv(old_file)[0]))
    texts, y, tags = load_tsv(scored)
    groups: list[tuple[str, list[bool]]] = []
    if args.revs:
        groups.append((f"lines of {args.revs[0]}", [t in had[0] for t in texts]))
        for rev, earlier, now in zip(args.revs[1:], had, had[1:]):
            groups.append((f"lines added by {rev}",
                           [t in now and t not in earlier for t in texts]))
        groups.append((f"lines added after {args.revs[-1]}", [t not in had[-1] for t in texts]))
    groups.append((f"all lines of {scored.relative_to(REPO)}", [True] * len(texts)))
    with np.load(read_head(args.head)) as f:
        arrays = padded({k: f[k] for k in f.files})
    if args.no_conflict:
        arrays["conflict_threshold"] = np.array([0.0], np.float32)
    head = EmotionHead(arrays)
    probs = EmotionReader(SentenceTransformerEmbedder(), head).probabilities(texts)[1]
    polarity = signs(texts)
    print(f"head {args.head} (threshold {head.threshold:.2f}, conflict threshold "
          f"{head.conflict_threshold:.2f})")
    for name, rows in groups:
        idx = np.flatnonzero(rows)
        if not idx.size:
            print(f"{name}: none")
            continue
        part = product_scores(y[idx], probs[idx], [tags[i] for i in idx], head.threshold,
                              polarity[idx], head.conflict_threshold)
        print(f"{name}: {part['n_plain']} unambiguous, macro-F1 {part['f1']:.3f}, inversions "
              f"{part['inv']} (with sarcasm {part['inv_all']}), no emotion {part['abstain']}")
        for i in part["inverted"]:
            j = idx[i]
            shown = EMOTIONS[int(probs[j].argmax())]
            print(f"  inverted (sarcasm included): {EMOTIONS[y[j]]} -> {shown} "
                  f"({probs[j].max():.2f}): {texts[j]}")


if __name__ == "__main__":
    main()
