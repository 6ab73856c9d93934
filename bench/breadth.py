"""How right the breadth header's count is ("N matching quotes from M people"), per topic set.

Counted set = ``ranking.count_matches`` (shipped scores >= ``MATCH_THRESHOLD``). Per topic,
relative error |counted - true| / true of the number of quotes and of people (banking77 and
clinc150 have one writer per message, so people = quotes there; the feedback set has named
speakers, some of whom speak more than once). Precision/recall: of the counted quotes vs the
truly relevant ones. The threshold is calibrated (``--tune``-free, always reported) on the
tuning sets plus the feedback set's even-numbered topics; eval sets and the feedback set's
odd-numbered topics are held out.

Run through bench/quality.py, which writes this section of bench/QUALITY.md.
"""
from __future__ import annotations

import numpy as np
from quality_data import Dataset, MemoryIndex, Sets

from store.retrieval import ranking

FLOOR = 0.5  # lowest threshold tried; scores are collected down to it once per topic
GRID = np.round(np.arange(0.55, 0.801, 0.01), 2)
TARGET = 0.30  # median relative error the issue asks for


def scores(d: Dataset) -> list[list[tuple[int, float]]]:
    index = MemoryIndex(d.X)
    return [ranking.count_matches(q, index, threshold=FLOOR) for q in d.Q]


def _people(d: Dataset, ids: set[int]) -> int:
    return len(set(d.people[sorted(ids)].tolist())) if d.people is not None else len(ids)


def errors(d: Dataset, found: list[list[tuple[int, float]]], t: float,
           topics: range | None = None) -> tuple[float, float, float, float, float]:
    """Median relative error of quotes and of people, precision, recall and the median ratio
    counted / true, at threshold t."""
    eq, ep, ratio = [], [], []
    tp = fp = fn = 0
    for i in topics or range(len(d.topics)):
        got = {j for j, s in found[i] if s >= t}
        rel = set(np.flatnonzero(d.relevant(i)).tolist())
        eq.append(abs(len(got) - len(rel)) / len(rel))
        ratio.append(len(got) / len(rel))
        ep.append(abs(_people(d, got) - _people(d, rel)) / _people(d, rel))
        tp, fp, fn = tp + len(got & rel), fp + len(got - rel), fn + len(rel - got)
    return (float(np.median(eq)), float(np.median(ep)), tp / max(tp + fp, 1),
            tp / max(tp + fn, 1), float(np.median(ratio)))


def report(sets: Sets) -> str:
    rows: list[tuple[str, Dataset, range | None, bool]] = []
    for kind, name in (("labels", "label names"), ("natural", "natural topics")):
        for d in sets.tuning[kind]:
            rows.append((f"{name} · {d.name} (tuning)", d, None, True))
        for d in sets.evals[kind]:
            rows.append((f"{name} · {d.name} (eval)", d, None, False))
    fb = sets.feedback
    n = len(fb.topics)
    rows += [(f"{fb.name}, even topics (tuning)", fb, range(0, n, 2), True),
             (f"{fb.name}, odd topics (held out)", fb, range(1, n, 2), False),
             (f"{fb.name}, all topics", fb, None, False)]
    found = {id(d): scores(d) for _, d, _, _ in rows}
    tuned = [[max(errors(d, found[id(d)], t, r)[:2]) for _, d, r, tune in rows if tune]
             for t in GRID]
    worst = [round(max(e), 2) for e in tuned]  # minimax; ties broken by the mean error
    best = float(GRID[min(range(len(GRID)), key=lambda i: (worst[i], np.mean(tuned[i])))])
    t0 = ranking.MATCH_THRESHOLD
    out = [f"Shipped `MATCH_THRESHOLD` = {t0}. Calibration (tuning rows only): the threshold "
           f"minimizing the worst median relative error over the tuning rows (ties: the smaller "
           f"mean error) is **{best:.2f}** "
           f"(worst tuning error {min(worst):.2f}; target <= {TARGET:.2f}).", ""]
    if abs(best - t0) > 1e-9:
        out += [f"**Note: calibration gives {best:.2f}, shipped is {t0}.**", ""]
    out += ["| set | topics | median rel. error, quotes | median rel. error, people | "
            "precision | recall | counted / true (median) | verdict |",
            "|---|---|---|---|---|---|---|---|"]
    misses = []
    for name, d, r, _ in rows:
        eq, ep, p, rc, ratio = errors(d, found[id(d)], t0, r)
        ok = eq <= TARGET and ep <= TARGET
        if not ok:
            misses.append(name)
        out.append(f"| {name} | {len(r or d.topics)} | {eq:.2f} | {ep:.2f} | {p:.2f} | {rc:.2f} "
                   f"| {ratio:.2f} | {'PASS' if ok else 'MISS'} |")
    out += ["", f"**{'PASS' if not misses else 'MISS'}** (median relative error <= {TARGET} on "
            f"quotes and people): {len(rows) - len(misses)} of {len(rows)} rows.", "",
            "Why one threshold misses (the profile is the ratio column and the sweep below): a "
            "short topic's cosine to a one-line question is higher than to a multi-sentence "
            "quote on the same theme, so a threshold low enough to count the feedback set's "
            "quotes (about 0.55-0.60) counts several times too many on banking77, whose 77 "
            "intents are near neighbours of each other, and one high enough for banking77 "
            "undercounts the feedback set by about half. The header therefore says the count "
            "is an estimate (\"about 12 matching quotes from about 7 people\"). Precision and "
            "recall of the counted set are in the table; on natural topics banking77's "
            "precision is low because its neighbouring intents (card arrival vs delivery "
            "estimate, top-up failed vs reverted) are counted as the same theme.", "",
            "Sweep (median relative error of the quote count, per row above, in order):", "",
            "| threshold | " + " | ".join(str(i + 1) for i in range(len(rows))) + " |",
            "|---|" + "---|" * len(rows)]
    for t in (0.55, 0.6, 0.65, 0.69, 0.71, 0.75):
        out.append(f"| {t:.2f} | " + " | ".join(f"{errors(d, found[id(d)], t, r)[0]:.2f}"
                                                for _, d, r, _ in rows) + " |")
    return "\n".join(out)
