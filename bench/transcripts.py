"""Transcript import throughput: passages per second of `voicebot import interview.vtt`
against the raw model encoding the same passages.

    python bench/transcripts.py [--interviews 10] [--rounds 3] [--data ../shared/data]

Builds WebVTT interviews (an interviewer's questions, a customer's turns made of real
Banking77 customer messages, several cues per turn), writes them to files, then per round,
into a fresh SQLite database: (a) the whole import path of the CLI (read the file, detect the
format, choose the users, split turns into passages, dedupe lookup, one encoding pass, INSERT,
FAISS add) for every interview; (b) the raw `SentenceTransformer.encode` of exactly the
passage texts (a) stored, in one list (it sorts by length and batches by 64). The two alternate
which runs first. Prints and writes to bench/TRANSCRIPTS.md the medians over rounds and the
median of (raw time / import time). A script, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

QUESTIONS = ["What happened the last time you used the app?", "Can you tell me more?",
             "How did that make you feel?", "What did you try next?", "Anything else?"]


def stamp(seconds: float) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def interviews(sentences: list[str], count: int, seed: int = 7) -> list[str]:
    """WebVTT interviews: Zoom-style "Name: text" cues, the customer's turns 2-6 messages."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        lines, t = ["WEBVTT", ""], 1.0
        for turn in range(12):
            question = QUESTIONS[turn % len(QUESTIONS)]
            lines += [str(len(lines)), f"{stamp(t)} --> {stamp(t + 3)}",
                      f"Dana Whitfield: {question}", ""]
            t += 3.5
            for sentence in rng.sample(sentences, rng.randint(2, 6)):
                said = sentence.strip().rstrip(".?!") + "."
                lines += [str(len(lines)), f"{stamp(t)} --> {stamp(t + 4)}",
                          f"Customer {n}: {said[0].upper()}{said[1:]}", ""]
                t += 4.2
        out.append("\n".join(lines))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--interviews", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-write", action="store_true", help="do not write bench/TRANSCRIPTS.md")
    args = p.parse_args()

    from bot.config import Settings
    from bot.container import build_services
    from bot.core.transcript_imports import TranscriptOptions, choose_users, to_quotes
    from bot.core.transcripts import read
    from store.retrieval.embeddings import SentenceTransformerEmbedder

    with open(args.data / "banking77" / "train.csv", encoding="utf-8") as fh:
        sentences = [row["text"] for row in csv.DictReader(fh)]
    settings = Settings()
    embedder = SentenceTransformerEmbedder(settings.embedding_model, threads=None)
    model = embedder._model  # the raw SentenceTransformer
    work = Path(tempfile.mkdtemp(prefix="voicebot-bench-transcripts-"))
    files = []
    for i, text in enumerate(interviews(sentences, args.interviews)):
        path = work / f"interview-{i:03d}.vtt"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    model.encode(sentences[:64], batch_size=64, show_progress_bar=False)  # warm-up

    def import_all(url: str) -> tuple[float, list[str]]:
        services = build_services(Settings(database_url=url), embedder=embedder)
        texts: list[str] = []
        started = time.perf_counter()
        for path in files:
            transcript = read(path, path.read_text(encoding="utf-8"), None)
            users = choose_users(transcript, interviewers=["Dana Whitfield"])
            quotes = to_quotes(path, transcript, users, TranscriptOptions(team_id="TBENCH"))
            summary = services.transcripts.import_quotes(quotes)
            if summary.added != len(quotes):
                raise RuntimeError(f"{path.name}: added {summary.added} of {len(quotes)}")
            texts += [q.text for q in quotes]
        took = time.perf_counter() - started
        services.close()
        return took, texts

    def raw(texts: list[str]) -> float:
        started = time.perf_counter()
        model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                     show_progress_bar=False)
        return time.perf_counter() - started

    imports, raws, ratios, passages = [], [], [], 0
    _, texts = import_all(f"sqlite:///{work / 'probe.db'}")  # passages of the same files
    passages = len(texts)
    for r in range(args.rounds):
        url = f"sqlite:///{work / f'round{r}.db'}"
        if r % 2:
            t_raw = raw(texts)
            t_imp, _ = import_all(url)
        else:
            t_imp, _ = import_all(url)
            t_raw = raw(texts)
        imports.append(passages / t_imp)
        raws.append(passages / t_raw)
        ratios.append(t_raw / t_imp)
        print(f"round {r + 1}: import {passages / t_imp:.1f} passages/s, raw encode "
              f"{passages / t_raw:.1f} passages/s, ratio {t_raw / t_imp:.2f}", file=sys.stderr)
    chars = statistics.median(len(t) for t in texts)
    report = (
        f"{args.interviews} WebVTT interviews, {passages} passages (median {chars:.0f} "
        f"characters), {args.rounds} rounds, torch threads: default, model "
        f"{embedder.name}\n\n"
        "| measure | median |\n| --- | --- |\n"
        f"| transcript import (read, passages, store, index) | {statistics.median(imports):.1f} "
        "passages/s |\n"
        f"| raw SentenceTransformer.encode of the same passages | "
        f"{statistics.median(raws):.1f} passages/s |\n"
        f"| ratio raw time / import time | {statistics.median(ratios):.2f} |\n")
    print(report)
    if not args.no_write:
        md = REPO / "bench" / "TRANSCRIPTS.md"
        md.write_text(
            "# Transcript import throughput\n\n"
            "Produced by `python bench/transcripts.py` (defaults: 10 interviews, 3 rounds); "
            "how it measures is in the script's docstring. A ratio near 1 means the import "
            "costs little beyond encoding the passages.\n\n"
            f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end (on a "
            "shared machine the absolute rates move with the load; the ratio, measured on the "
            "same passages round by round, moves less):\n\n"
            + report)
        print(f"wrote {md}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
