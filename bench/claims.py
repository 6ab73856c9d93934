"""Precision and recall of the claims detector (``bot.core.claims.find_claim``).

    python bench/claims.py [--data bench/data/claims.jsonl] [--report bench/CLAIMS.md]

    python bench/claims.py --offers     # also measure the offer thresholds (real model)

The labelled set is ``bench/data/claims.jsonl``: realistic internal channel messages, each
labelled with its kind (``claim`` about users, ``question``, ``plan``, ``chitchat``,
``announcement``, ``other`` = a claim about something else, ``mention`` = users named but not
spoken for) and a split. ``bench/data/claims_holdout.jsonl`` was written after the rule was
frozen and never used to change it. Prints a table per split and the misses.

``--offers`` measures when a claim should get an offer. The demo bank (the 462 Banking77
messages `voicebot demo` loads, 6 per intent, each from a different customer) is loaded into
a temporary SQLite database with the bundled model; ``bench/data/claims_offers.jsonl`` holds
80 claims, 40 about a topic the bank holds (with its intent) and 40 about topics it does not
hold. For each threshold pair (N quotes, M people) it prints how many offers are made and
how many of them are right (precision), and how many of the 40 present topics got one
(recall). bot/core/suggest.py ships the pair chosen here.
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
    parser.add_argument("--offers", action="store_true",
                        help="also measure the offer thresholds on the demo bank (slow)")
    parser.add_argument("--offers-data", type=Path,
                        default=ROOT / "bench" / "data" / "claims_offers.jsonl")
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
    if args.offers:
        lines += ["", *offer_thresholds(args.offers_data)]
        print("\n".join(lines[lines.index(""):]))
    if args.report:
        args.report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


def offer_thresholds(path: Path) -> list[str]:
    """Offers made on the demo bank for each (quotes, people) threshold pair."""
    import tempfile
    from importlib import resources

    from bot.config import Settings
    from bot.container import build_services
    from bot.core.importing import parse_file
    from bot.core.suggest import MIN_PEOPLE, MIN_QUOTES, MIN_SCORE

    rows = load(path)
    with tempfile.TemporaryDirectory() as tmp:
        services = build_services(Settings(database_url=f"sqlite:///{tmp}/bench.db"))
        sample = resources.files("bot") / "data" / "demo_quotes.csv"
        with resources.as_file(sample) as csv_path:
            parsed = parse_file(csv_path, team_id="TBENCH", captured_by="bench")
        services.imports.import_quotes(parsed.rows)
        found = []
        for row in rows:
            claim = find_claim(row["text"])
            if claim is None:
                found.append((row, 0, 0, 0.0))
                continue
            result = services.search.search("TBENCH", services.suggestions.query_for(
                claim.topic), limit=5, channel_id="CBENCH")
            top = services.suggestions.closest("TBENCH", claim.topic, result)
            found.append((row, result.breadth.matches, result.breadth.people, top))
        services.close()
    present = sum(r["evidence"] for r in rows)
    out = ["Offers on the demo bank (`python bench/claims.py --offers`): "
           f"{len(rows)} claims, {present} about topics the bank holds.", "",
           "| Top score at least | N quotes | from M people | Offers | Right | Precision | "
           "Recall |", "|---|---|---|---|---|---|---|"]
    def offered(q: int, p: int, top: float, n: int, m: int, score: float) -> bool:
        return q >= n and p >= m and top >= score

    for score in (0.0, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6):
        for n, m in ((1, 1), (2, 2), (3, 3), (4, 4)):
            made = [r for r, q, p, top in found if offered(q, p, top, n, m, score)]
            right = sum(r["evidence"] for r in made)
            precision = right / len(made) if made else 1.0
            mark = " (shipped)" if (n, m, score) == (MIN_QUOTES, MIN_PEOPLE, MIN_SCORE) else ""
            out.append(f"| {score:.2f}{mark} | {n} | {m} | {len(made)} | {right} | "
                       f"{precision:.2f} | {right / present:.2f} |")
    shipped = (MIN_QUOTES, MIN_PEOPLE, MIN_SCORE)
    wrong = [(r["text"], q, p, top) for r, q, p, top in found
             if not r["evidence"] and offered(q, p, top, *shipped)]
    missed = [(r["text"], q, p, top) for r, q, p, top in found
              if r["evidence"] and not offered(q, p, top, *shipped)]
    out += ["", "Wrong offers at the shipped thresholds: " + (
        "; ".join(f"\u201c{t}\u201d ({q} quotes, {p} people, top {s:.2f})"
                  for t, q, p, s in wrong) or "none"),
        "Present topics without an offer: " + (
        "; ".join(f"\u201c{t}\u201d ({q} quotes, {p} people, top {s:.2f})"
                  for t, q, p, s in missed) or "none")]
    return out


if __name__ == "__main__":
    raise SystemExit(main())
