"""Precision and recall of the claims detector (``bot.core.claims.find_claim``).

    python bench/claims.py [--data bench/data/claims.jsonl] [--report bench/CLAIMS.md]

The labelled set is ``bench/data/claims.jsonl``: realistic internal channel messages, each
labelled with its kind (``claim`` about users, ``question``, ``plan``, ``chitchat``,
``announcement``, ``other`` = a claim about something else, ``mention`` = users named but not
spoken for) and a split. ``bench/data/claims_holdout.jsonl`` was written after the rule was
frozen and never used to change it. Prints a table per split and the misses.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.claims import find_claim  # noqa: E402


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def score(rows: list[dict]) -> dict:
    tp = fp = fn = tn = 0
    misses: list[tuple[str, dict, str]] = []
    by_kind: Counter[str] = Counter()
    for row in rows:
        claim = find_claim(row["text"])
        said = claim is not None
        if said and row["claim"]:
            tp += 1
        elif said:
            fp += 1
            by_kind[row["kind"]] += 1
            misses.append(("false positive", row, claim.topic if claim else ""))
        elif row["claim"]:
            fn += 1
            misses.append(("missed claim", row, ""))
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"n": len(rows), "claims": tp + fn, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": precision, "recall": recall, "misses": misses, "fp_kinds": by_kind}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data" / "claims.jsonl")
    parser.add_argument("--holdout", type=Path,
                        default=ROOT / "bench" / "data" / "claims_holdout.jsonl")
    parser.add_argument("--report", type=Path, default=None,
                        help="also write the table to this markdown file")
    args = parser.parse_args()

    rows = load(args.data)
    sets = {"dev": [r for r in rows if r["split"] == "dev"],
            "test": [r for r in rows if r["split"] == "test"],
            "all (dev + test)": rows}
    if args.holdout.exists():
        sets["holdout (written after the rule was frozen)"] = load(args.holdout)
    lines = ["| Set | Messages | Claims | Precision | Recall | False positives | Missed |",
             "|---|---|---|---|---|---|---|"]
    for name, subset in sets.items():
        s = score(subset)
        verdict = "PASS" if s["precision"] >= 0.90 else "MISS"
        lines.append(f"| {name} | {s['n']} | {s['claims']} | {s['precision']:.3f} ({verdict}) | "
                     f"{s['recall']:.3f} | {s['fp']} | {s['fn']} |")
    print("\n".join(lines))
    misses = [m for subset in (rows, sets.get(
        "holdout (written after the rule was frozen)", [])) for m in score(subset)["misses"]]
    print("\nMisses:")
    for what, row, topic in misses:
        print(f"  {what:15} [{row['kind']}] {row['text']}" + (f"  -> {topic!r}" if topic else ""))
    if args.report:
        args.report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
