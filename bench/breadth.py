#!/usr/bin/env python
"""How right the breadth header's count is ("N matching quotes from M people"), per topic set.

Counted set = ``ranking.count_matches`` with the shipped ``MATCH_MODEL`` (an expected count:
each candidate's probability of being on the topic from its shipped score and the topic's
background score, summed; at least the quotes scoring >= its floor). Per topic, relative error
|counted - true| / true of the number of quotes and of people (banking77 and clinc150 have one
writer per message, so people = quotes there; the feedback set has named speakers, some of
whom speak more than once). Precision/recall: of the counted quotes vs the truly relevant ones.

The model is fitted here (logistic regression by IRLS, each tuning row weighted equally) on
the tuning rows only: banking77 train draws and clinc150 val (label names and natural topics)
plus the feedback set's even-numbered topics; eval rows and the odd-numbered feedback topics
are held out. The previous rule, one absolute threshold, is reported beside it.

    .venv/bin/python bench/breadth.py [--data DIR]

writes the "breadth" section of bench/QUALITY.md (bench/quality.py writes it too, with the
ranking tables).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from quality_data import Dataset, MemoryIndex, Sets  # noqa: E402

from store.retrieval import ranking  # noqa: E402

FLOOR = 0.5  # lowest absolute threshold tried; scores are collected down to it once per topic
GRID = np.round(np.arange(0.55, 0.801, 0.01), 2)
TARGET = 0.30  # median relative error the issue asks for
PREVIOUS = 0.71  # the single absolute threshold shipped before MATCH_MODEL
Row = tuple[str, Dataset, range | None, bool]  # name, data, topics (None: all), tuning?
Counted = list[set[int]]  # per topic of a data set, the quote rows counted


def _people(d: Dataset, ids: set[int]) -> int:
    return len(set(d.people[sorted(ids)].tolist())) if d.people is not None else len(ids)


def errors(d: Dataset, got: Counted,
           topics: range | None = None) -> tuple[float, float, float, float, float]:
    """Median relative error of quotes and of people, precision, recall and the median ratio
    counted / true."""
    eq, ep, ratio = [], [], []
    tp = fp = fn = 0
    for i in topics or range(len(d.topics)):
        rel = set(np.flatnonzero(d.relevant(i)).tolist())
        eq.append(abs(len(got[i]) - len(rel)) / len(rel))
        ratio.append(len(got[i]) / len(rel))
        ep.append(abs(_people(d, got[i]) - _people(d, rel)) / _people(d, rel))
        tp, fp, fn = tp + len(got[i] & rel), fp + len(got[i] - rel), fn + len(rel - got[i])
    return (float(np.median(eq)), float(np.median(ep)), tp / max(tp + fp, 1),
            tp / max(tp + fn, 1), float(np.median(ratio)))


def counted(d: Dataset, **kw: object) -> Counted:
    index = MemoryIndex(d.X)
    return [{i for i, _ in ranking.count_matches(q, index, **kw)} for q in d.Q]  # type: ignore[arg-type]


def above(found: list[list[tuple[int, float]]], t: float) -> Counted:
    return [{i for i, s in f if s >= t} for f in found]


def fit(rows: Sequence[Row]) -> ranking.CountModel:
    """Logistic regression of "on the topic" on (s, s - background), over the candidates
    count_matches reads (the COUNT_POOL_MAX pool), each row weighted equally."""
    X, y, w = [], [], []
    p = ranking.PARAMS
    for _, d, topics, _ in rows:
        index, part = MemoryIndex(d.X), []
        for t in topics or range(len(d.topics)):
            _, first, _, _ = ranking._score_pool(ranking._SharedSearch(index, d.Q[t], None),
                                                 p.pool, p)
            ids, s, _, _ = ranking._score_pool(ranking._SharedSearch(index, d.Q[t], None),
                                               ranking.COUNT_POOL_MAX, p)
            b = float(first.min())
            part.append((np.stack([s, s - b, np.ones_like(s)], 1), d.relevant(t)[ids]))
        n = sum(len(f) for f, _ in part)
        for f, r in part:
            X.append(f)
            y.append(r)
            w.append(np.full(len(r), 1.0 / n))
    A, t_, wt = (np.concatenate(X).astype(float), np.concatenate(y).astype(float),
                 np.concatenate(w))
    beta = np.zeros(3)
    for _ in range(100):  # Newton-Raphson (IRLS)
        pr = 1 / (1 + np.exp(-A @ beta))
        step = np.linalg.solve((A * (wt * pr * (1 - pr))[:, None]).T @ A + 1e-12 * np.eye(3),
                               A.T @ (wt * (t_ - pr)))
        beta += step
        if np.abs(step).max() < 1e-9:
            break
    return ranking.CountModel(score=round(float(beta[0]), 2),
                              above_background=round(float(beta[1]), 2),
                              intercept=round(float(beta[2]), 2), floor=ranking.MATCH_MODEL.floor,
                              gate=gate(rows))


def gate(rows: Sequence[Row]) -> float:
    """The highest multiple of 0.05 below every tuning topic's plain cosine to its nearest
    quote: no real topic of the tuning rows is told that nothing matches."""
    low = min(float((d.X @ d.Q[t]).max()) for _, d, topics, _ in rows
              for t in topics or range(len(d.topics)))
    return float(np.floor(low / 0.05) * 0.05).__round__(2)


def _rows(sets: Sets) -> list[Row]:
    rows: list[Row] = []
    for kind, name in (("labels", "label names"), ("natural", "natural topics")):
        for d in sets.tuning[kind]:
            rows.append((f"{name} · {d.name} (tuning)", d, None, True))
        for d in sets.evals[kind]:
            rows.append((f"{name} · {d.name} (eval)", d, None, False))
    fb = sets.feedback
    n = len(fb.topics)
    return rows + [(f"{fb.name}, even topics (tuning)", fb, range(0, n, 2), True),
                   (f"{fb.name}, odd topics (held out)", fb, range(1, n, 2), False),
                   (f"{fb.name}, all topics", fb, None, False)]


def _worst(rows: Sequence[Row], count: Callable[[Dataset], Counted]) -> tuple[float, float]:
    """Worst median relative error (quotes or people) over the tuning and the other rows."""
    memo = {id(d): count(d) for _, d, _, _ in rows}
    errs = [(tune, max(errors(d, memo[id(d)], r)[:2])) for _, d, r, tune in rows]
    return (max(e for tune, e in errs if tune), max(e for tune, e in errs if not tune))


def off_topic(sets: Sets, n: int = 200) -> list[str]:
    """Counts for topics that match nothing: clinc150's out-of-scope test messages."""
    ctest = sets.evals["labels"][1]
    Q = ctest.X[np.flatnonzero(ctest.labels == "oos")[:n]]
    out = []
    for d in (sets.evals["labels"][0], sets.feedback):
        index = MemoryIndex(d.X)
        c = np.array([len(ranking.count_matches(q, index)) for q in Q])
        o = np.array([len(ranking.count_matches(q, index, threshold=PREVIOUS)) for q in Q])
        out.append(f"| {d.name} | {len(Q)} | {np.mean(c == 0):.2f} | {np.median(c):.0f} | "
                   f"{np.percentile(c, 90):.0f} | {np.mean(o == 0):.2f} | {np.median(o):.0f} | "
                   f"{np.percentile(o, 90):.0f} |")
    return out


def report(sets: Sets) -> str:
    rows = _rows(sets)
    model = ranking.MATCH_MODEL
    fitted = fit([r for r in rows if r[3]])
    shipped = {id(d): counted(d) for _, d, _, _ in rows}
    found = {id(d): [ranking.count_matches(q, MemoryIndex(d.X), threshold=FLOOR) for q in d.Q]
             for _, d, _, _ in rows}
    tuned = [[max(errors(d, above(found[id(d)], t), r)[:2]) for _, d, r, tune in rows if tune]
             for t in GRID]
    worst = [round(max(e), 2) for e in tuned]  # minimax; ties broken by the mean error
    best_t = float(GRID[min(range(len(GRID)), key=lambda i: (worst[i], np.mean(tuned[i])))])
    out = ["Command: `.venv/bin/python bench/breadth.py` (also run by bench/quality.py).", "",
           f"Shipped rule: `ranking.MATCH_MODEL` = `{model}`: a quote with shipped score *s* is "
           "on the topic with probability sigmoid(score·s + above_background·(s − b) + "
           "intercept), *b* the lowest shipped score among the topic's 200 nearest quotes (its "
           "background); the count is the rounded sum of the probabilities, at least the "
           f"number of quotes scoring >= {model.floor}, and the quotes counted (whose people "
           "are counted) are that many best-scored ones.", "",
           f"Calibration (tuning rows only, IRLS, rows weighted equally) gives `{fitted}`"
           + (" (the shipped values)." if fitted == model else
              f". **Note: shipped is `{model}`.**"), "",
           "| set | topics | median rel. error, quotes | median rel. error, people | "
           "precision | recall | counted / true (median) | verdict |",
           "|---|---|---|---|---|---|---|---|"]
    misses = []
    for name, d, r, _ in rows:
        eq, ep, p, rc, ratio = errors(d, shipped[id(d)], r)
        ok = eq <= TARGET and ep <= TARGET
        if not ok:
            misses.append(name)
        out.append(f"| {name} | {len(r or d.topics)} | {eq:.2f} | {ep:.2f} | {p:.2f} | {rc:.2f} "
                   f"| {ratio:.2f} | {'PASS' if ok else 'MISS'} |")
    out += ["", f"**{'PASS' if not misses else 'MISS'}** (median relative error <= {TARGET} on "
            f"quotes and people): {len(rows) - len(misses)} of {len(rows)} rows.", ""]
    out += ["### Against one absolute threshold", "",
            "The worst median relative error (quotes or people) over the tuning rows and over "
            "the held-out rows:", "",
            "| rule | worst tuning row | worst held-out row |", "|---|---|---|"]
    rules: list[tuple[str, Callable[[Dataset], Counted]]] = [
        (f"one threshold, {PREVIOUS} (shipped before)",
         lambda d: above(found[id(d)], PREVIOUS)),
        (f"one threshold, {best_t:.2f} (best on tuning rows)",
         lambda d: above(found[id(d)], best_t)),
        ("**shipped** `MATCH_MODEL`", lambda d: shipped[id(d)])]
    for floor in (0.75, 0.85, 1.01):
        m = replace(model, floor=floor)
        rules.append((f"`MATCH_MODEL`, floor {floor if floor <= 1 else 'off'}",
                      lambda d, m=m: counted(d, model=m)))  # type: ignore[misc]
    for label, count in rules:
        tw, ew = _worst(rows, count)
        out.append(f"| {label} | {tw:.2f} | {ew:.2f} |")
    out += ["", "Topics that match nothing (clinc150's out-of-scope test messages as topics): "
            "the share counted as 0 (the header then says that no stored quote matches "
            f"closely), and the median and 90th percentile of the count. The gate "
            f"({model.gate}: no quote within that plain cosine of the topic, counted 0) is the "
            "highest multiple of 0.05 that no tuning topic falls under; the shipped score "
            "alone cannot tell (feedback pulls any query onto its nearest cluster, so its top "
            "score is about 0.9 for these too).", "",
            f"| corpus | topics | share 0 | median | p90 | share 0, threshold {PREVIOUS} | "
            f"median, {PREVIOUS} | p90, {PREVIOUS} |", "|---|---|---|---|---|---|---|---|"]
    out += off_topic(sets)
    fb_rows = [r for r in rows if r[1] is sets.feedback and r[2] is not None]
    clinc_rows = [r for r in rows if "clinc150" in r[0]]

    def counted_share(some: list[Row]) -> str:
        v = [errors(d, above(found[id(d)], PREVIOUS), r)[4] for _, d, r, _ in some]
        return f"{min(v):.0%}-{max(v):.0%}"

    why = ("Why one threshold missed: a short topic's cosine to a one-line question is higher "
           "than to a multi-sentence quote on the same theme, and banking77's 77 intents are "
           "near neighbours of each other, so the threshold that counts banking77 best (about "
           f"0.7, sweep below) counts {counted_share(fb_rows)} of the feedback set's quotes and "
           f"{counted_share(clinc_rows)} of clinc150's (median counted / true at {PREVIOUS}), "
           "whose errors are smallest near 0.55-0.65. Every topic's 200 nearest quotes say how "
           "close the topic's neighbourhood is anyway (*b*: high among banking77's near "
           "intents, low among the feedback set's distinct themes); read against it, one rule "
           "fits all three corpora. What remains is per topic: a topic whose nearest quotes "
           "belong to a neighbouring intent (banking77: card arrival vs delivery estimate, "
           "top-up failed vs reverted) is counted with them, which is why banking77's "
           "precision on natural topics stays near 0.4 and the header keeps saying \"about\". "
           "Known limit: *b* is read at the 200th nearest quote, so a theme with more than "
           "~200 quotes raises its own background; the floor keeps every quote scoring >= "
           f"{model.floor} counted there (no benchmark topic has more than 40 relevant "
           "quotes, so this case is not measured).")
    out += ["", why, "",
            "Sweep of one absolute threshold (median relative error of the quote count, per "
            "row above, in order):", "",
            "| threshold | " + " | ".join(str(i + 1) for i in range(len(rows))) + " |",
            "|---|" + "---|" * len(rows)]
    for t in (0.55, 0.6, 0.65, 0.7, 0.71, 0.75):
        out.append(f"| {t:.2f} | " + " | ".join(
            f"{errors(d, above(found[id(d)], t), r)[0]:.2f}" for _, d, r, _ in rows) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    from quality import write_section
    from quality_data import DEFAULT_DATA, Model, check_data, load

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="folder holding banking77/ and clinc150/ (default ../shared/data)")
    args = ap.parse_args(argv)
    body = report(load(check_data(args.data), Model()))
    print(body)
    write_section("breadth", "Breadth: \"N matching quotes from M people\"", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
