"""The texts and vectors the benchmark stores: real sentences (banking77, clinc150), a pool
of them really encoded, fanned out to any size as pool vector + small Gaussian noise."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.perf.common import DEFAULT_DATA, TEAM, now


@dataclass
class Corpus:
    texts: list[str]  # unique real sentences, shuffled deterministically
    topics: list[str]  # short topic strings, like what people type after /voice


def load_corpus(data: Path) -> Corpus:
    b77, clinc = data / "banking77", data / "clinc150"
    needed = [b77 / "train.csv", b77 / "test.csv", clinc / "train.jsonl"]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise SystemExit(
            "bench.perf: the benchmark texts are missing: " + ", ".join(missing) + ".\n"
            f"Point --data at the folder holding banking77/ and clinc150/ (default {DEFAULT_DATA})."
        )
    texts: dict[str, None] = {}
    topics: dict[str, None] = {}
    for name in ("train.csv", "test.csv"):
        with open(b77 / name, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("text", "").strip():
                    texts[row["text"].strip()] = None
                if row.get("label"):
                    topics[row["label"].replace("_", " ")] = None
    for name in ("train.jsonl", "val.jsonl", "test.jsonl"):
        path = clinc / name
        if not path.is_file():
            continue
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                rec = json.loads(line)
                if rec.get("text", "").strip():
                    texts[rec["text"].strip()] = None
                label = rec.get("label")
                if label and label != "oos":
                    topics[label.replace("_", " ")] = None
    import random

    out = list(texts)
    random.Random(20240601).shuffle(out)
    return Corpus(texts=out, topics=list(topics))



def make_vectors(pool_vecs, total: int, sigma: float, seed: int = 7):
    """``total`` unit vectors: pool vector (cycled) + Gaussian noise, renormalised."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n_pool, dim = pool_vecs.shape
    out = np.empty((total, dim), dtype=np.float32)
    step = 20_000
    for start in range(0, total, step):
        idx = np.arange(start, min(total, start + step))
        block = pool_vecs[idx % n_pool].astype(np.float32)
        # The first pass over the pool stores the real encoded vectors unchanged.
        noisy = idx >= n_pool
        block[noisy] += rng.normal(0.0, sigma, size=(int(noisy.sum()), dim)).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + len(idx)] = block
    return out


def insert_rows(url: str, pool_texts: list[str], vecs, start: int, stop: int,
                model_name: str) -> float:
    """Insert quotes ``start..stop-1`` with SQLAlchemy Core; returns seconds spent."""
    from sqlalchemy import insert

    from store import db as sdb
    from store.models import Quote, SourceKind, utcnow
    from store.queries.quotes import NewQuote, to_row
    from store.retrieval.embeddings import to_blob

    kinds = list(SourceKind)
    segments = ("smb", "mid-market", "enterprise")
    epoch = datetime(2024, 1, 1, tzinfo=UTC)
    engine = sdb.make_engine(url)
    t = now()
    try:
        for lo in range(start, stop, 5000):
            rows = []
            for i in range(lo, min(stop, lo + 5000)):
                base = pool_texts[i % len(pool_texts)]
                text = base if i < len(pool_texts) else f"{base} #{i}"
                nq = NewQuote(team_id=TEAM, text=text, source_kind=kinds[i % len(kinds)],
                              speaker_name=f"Customer {(i * 7919) % 3000}",
                              company=f"Company {(i * 104729) % 400}",
                              segment=segments[i % 3],
                              said_at=epoch + timedelta(hours=(i * 37) % (24 * 700)),
                              is_private=i % 100 == 0,
                              channel_id=f"GPRIVATE{i % 7}" if i % 100 == 0 else None)
                rows.append(to_row(nq, embedding=to_blob(vecs[i]), model=model_name,
                                  now=utcnow()))
            with engine.begin() as conn:
                conn.execute(insert(Quote), rows)
    finally:
        engine.dispose()
    return now() - t


