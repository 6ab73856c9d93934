"""Train the five-class emotion head on GoEmotions and write weights + report.

Protocol (bench/EMOTION.md): GoEmotions labels are mapped to five classes; an item is kept
when its mapped labels give exactly one class. Train on train, select/calibrate on dev,
report macro-F1 on the full filtered test set and on a fixed 2,000-item sample (seed 0).

With ``--keep`` nothing is trained: the ``--init`` head's layer, classifier and cue weights
are kept, and only what is chosen on dev after training (temperature, per-class correction,
confidence threshold, conflict threshold) is chosen again.

The shipped head fine-tunes copies of all-MiniLM-L6-v2's top two transformer layers (the
lower layers stay frozen, so their output is computed once and cached) with a linear
classifier on the mean-pooled tokens. At run time the app reads the hidden states entering
those layers from the forward pass that makes each quote's vector
(store/retrieval/emotion.py), so nothing is encoded twice. Baselines on the frozen sentence
vector are trained in the same run. The shipped head was trained by (bench/EMOTION.md)

    .venv/bin/python bench/train_emotion.py --blocks 2 \
        --train-lines bench/data/emotion_product_train.tsv --product 300 [--data DIR] [--cache DIR]

(``--blocks`` defaults to 1: the one-block head shipped before 2026-12-08.)

``--train-lines PATH`` adds hand-written product-feedback lines (the dev set's columns,
e.g. bench/data/emotion_product_train.tsv) to the training data, next to the synthetic ones.

Encoding is the cost: the states of every text are cached in ``--cache`` (keyed by the
model and the texts), so a rerun with the same data spends minutes, not an hour. With
``--epochs 0`` the layer stays frozen and only the classifier and the cue weights learn.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from emotion_augment import emoji_variants, product_lines  # noqa: E402

from store.retrieval import cues as text_cues  # noqa: E402
from store.retrieval.embeddings import SentenceTransformerEmbedder, Tap  # noqa: E402
from store.retrieval.emotion import (  # noqa: E402
    BLOCK_ARRAYS,
    EMOTIONS,
    EmotionHead,
    EmotionReader,
    contradicted,
    inverted,
)

GROUPS: dict[str, tuple[str, ...]] = {  # protocol from the issue; order == EMOTIONS
    "frustrated": ("annoyance", "anger"),
    "confused": ("confusion",),
    "delighted": ("joy", "admiration", "gratitude"),
    "disappointed": ("disappointment",),
    "neutral": ("neutral",),
}
MAPPING: dict[str, str] = {label: emotion for emotion, ls in GROUPS.items() for label in ls}
DESCRIPTIONS: dict[str, str] = {  # zero-shot baseline prompts
    "frustrated": "I am frustrated, annoyed and angry about this.",
    "confused": "I am confused, I don't understand how this works.",
    "delighted": "I am delighted, happy and grateful, this is great.",
    "disappointed": "I am disappointed, this did not live up to my expectations.",
    "neutral": "A neutral factual statement without emotion.",
}
SANITY = (  # product-style sentences, shown in the report as a domain-shift check (not scored)
    "This is so frustrating, the export keeps failing and nobody answers",
    "Seriously, stop breaking the export. This is ridiculous.",
    "I love it, thank you so much!",
    "I don't understand how to set up the integration, what does this option mean?",
    "I was hoping the new dashboard would fix it, but it's a letdown.",
    "We export the report every Monday.",
)
PRODUCT_DEV = REPO / "bench" / "data" / "emotion_product_dev.tsv"
SANITY_SET = REPO / "tests" / "data" / "emotion_sanity.tsv"  # reported only, never chosen on
KNOWN_FAILURES = (  # the lines of issue 13 that the previous head got wrong
    "Export again! 😡😡 It times out.",
    "Third time this week the app logged me out in the middle of a form 😤",
    "I am not happy with your company. Please delete my account asap.",
)
PRODUCT_PER_CLASS = 500  # synthetic product lines per class (bench/emotion_augment.py)
EMOJI_SHARE = 0.15  # GoEmotions train items that also appear with an emoji
LR_CUES = 1e-2
LINEAR_EPOCHS = 30  # classifier-only training on a frozen layer (--epochs 0)
# L2 pull of the classifier towards the one it starts from (--epochs 0), chosen on dev
ANCHORS = (0.0, 0.003, 0.03, 0.3)
GE_DEV_MARGIN = 0.01  # a threshold may cost at most this much GoEmotions dev macro-F1
# --epochs 0: an epoch may cost at most this much GoEmotions dev macro-F1 against the starting
# classifier (0.01 let the head of 2026-11-30 lose 0.008 on dev and 0.017 on test)
TRAIN_GE_MARGIN = 0.005
TAGS = ("emoji", "negation", "typo", "sarcasm", "contrast", "loss")  # reported per tag
THRESHOLDS = (0.0, *np.round(np.arange(0.30, 0.801, 0.05), 2))
# Below a conflict threshold a label the text's cues contradict is not shown (1.0: never shown)
CONFLICT_THRESHOLDS = (*THRESHOLDS, 0.9, 1.0)
SAMPLE_SIZE, SAMPLE_SEED = 2000, 0
CLASS_WEIGHT_POWER = 0.5  # class weight = (inverse frequency) ** 0.5
# Fine-tuned top layer (the shipped head)
BLOCKS, EPOCHS, BATCH, LR_BLOCK, LR_HEAD, WD, DROP = 1, 4, 32, 1e-4, 1e-3, 1e-2, 0.1
INNER = 384  # feed-forward units kept of the layer's 1536: the copy costs ~half a layer
SEEDS = (0,)  # one seed keeps a run within ~30 min on 2 cores (seeds moved dev by ~0.002)

REPORT = """# Emotion head: GoEmotions and product feedback

Generated by `.venv/bin/python bench/train_emotion.py {argv}` on {date} (data: `{data}`;
model: all-MiniLM-L6-v2, bundled). Run time {total_minutes:.0f} min on this 2-core machine,
shared with other jobs (load average {load_start} at the start, {load_end} at the end):
encoding {encode_minutes:.0f} min (texts whose hidden states were not yet in `--cache`),
training {train_minutes:.0f} min.

## Targets (issue 13)

| target | figure | verdict |
|---|---|---|
{targets}

Polarity inversion: a frustrated or disappointed line labelled delighted, or a delighted line
labelled frustrated or disappointed (`store.retrieval.emotion.inverted`); a line the head
shows no emotion for is never an inversion. Inverted sanity lines (sarcasm included):
{inverted_lines}

## Data

GoEmotions (Demszky et al. 2020, Apache-2.0, Reddit comments) labels are mapped:

{mapping}

An item is kept when its mapped labels give exactly one class (other, unmapped labels may be
present). Items with no mapped label, or whose labels map to two different classes, are
dropped. Metric: macro-F1 over the five classes. *2k* is a fixed sample of the filtered test
set: `np.random.default_rng({SAMPLE_SEED}).choice(n_test, {SAMPLE_SIZE}, replace=False)`.
*strict* re-scores the same predictions on the test items whose labels are all mapped.

Product feedback, hand-written for voicebot in the voices of app users, B2B admins and
support tickets, with emoji, negation, typos and marked sarcasm:

- `bench/data/emotion_product_dev.tsv`: the **dev** set. It chooses the epoch (with
  GoEmotions dev), the confidence threshold and the conflict threshold. Its last 20 lines
  (loss and relief, 85d699d) were added for the conflict rule, written before any head
  scored them.
- `tests/data/emotion_sanity.tsv`: the **sanity** set, **test only**: never trained or tuned
  on; reported here and asserted by `tests/test_emotion_sanity.py`. Its macro-F1 counts the
  unambiguous lines (sarcasm and ambiguous lines are reported apart). Lines tagged
  *contrast* turn the clause before them around: praise taken back ("I wish I could say I
  love the new version, but I don't."), praise only wished for, and the mirror image (a fear
  that did not come true). Thirteen of them were added with the clause-level negation cue,
  written before the cue, so that it is measured on more than the line it was made for.
  Lines tagged *loss* praise something that was taken away ("Such a shame they removed the
  widget, it was the best part.": disappointed), with controls the loss cue must not flip
  (a disliked thing removed: delighted; "Shame on you ...": frustrated). The widget line was
  seen inverted before the cue; the other 16 were written and committed before the cue and
  before any head was trained with it (1d2c283; the head shipped before it inverted 4 of
  them). Caveat: the cue's word lists were then written by the same author with those lines
  in view, so they are held out from training and tuning, not from the cue's design. The
  31 lines of 7cda4b1 (loss and relief lines, controls, and plain lines of each class)
  were written and committed before the conflict rule and before any head scored them; the
  last 36 (7fb95cf, the same kinds, worded with vocabulary kept out of the templates and
  cues) before the loss/relief training data tried after it and before any head scored them.
- Training adds synthetic product lines composed from templates (`bench/emotion_augment.py`:
  a product area x a phrasing of one emotion, optional emoji, typos, greetings; factual
  problem reports that take the emotion of an emoji they carry) and GoEmotions train items
  given an emoji of their emotion (a neutral item given an emotion's emoji takes that
  emotion). A test checks that no synthetic line equals a sanity line. The templates and both
  hand-written sets have one author, so the sanity figure measures a shared style as well as
  the head: read it as a floor on obvious cases, not as field accuracy.

| set | total | kept | {emotions} |
|---|---|---|{dashes}
{splits}
{product_splits}

## Results

Train on GoEmotions train + the augmentation above; choose on dev only; test sets are
reported, never used for a choice. "No emotion" (below the threshold) is scored as neutral.

GoEmotions (macro-F1):

| model | dev | test (full) | test (2k sample) | test (strict) |
|---|---|---|---|---|
{results}

Product feedback (macro-F1 with no emotion counted as neutral; inversions; lines shown no
emotion):

| model | dev F1 | dev inv. | dev none | sanity F1 | sanity inv. | inv. with sarcasm | sanity none |
|---|---|---|---|---|---|---|---|
{product_results}

Shipped head on the sanity set by tag (right / lines):

| tag | right |
|---|---|
{tag_rows}

Per-class F1 of the shipped head on GoEmotions test:

| class | test (full) | test (2k) |
|---|---|---|
{per_class}

## Shipped head

`{path}` ({kib:.0f} KiB; float16 matrices, float32 vectors). A copy of all-MiniLM-L6-v2's
top {blocks} transformer layer(s) (from layer {layer}, counting from 0, of {n_layers};
initialised from the model, its feed-forward narrowed to the {inner} units with the largest
weight norms, then fine-tuned; see *Training* for this run), mean pooling over its tokens,
a linear layer to the five classes, plus learned weights on six text cues
(`store/retrieval/cues.py`: emoji per emotion, since the model's vocabulary reads every
emoji as `[UNK]`, and negated positive / negated negative words, including a word that
a later elliptical negation takes back: "..., but I don't.", "It isn't.", "Not anymore.", and
a liked thing taken away: "they removed X, it was the best part" reads as a negated
positive, a disliked thing gone as a negated negative), then
`softmax(logits / T + bias)` with T = {temperature:.2f} (fitted on
GoEmotions dev NLL) and bias = {bias} ({applied}: 2-fold dev gain {gain:+.4f}).

Cue weights (added to the logits when a cue is fully on):

| cue | {emotions} |
|---|{dashes}
{cue_w}

**When unsure, no emotion**: below a confidence of {threshold:.2f} the head labels nothing
(the quote is stored with no emotion, shown untagged, left out of the digest's emotion
groups). Among the thresholds that cost at most {GE_DEV_MARGIN} of GoEmotions dev macro-F1 (so
that the GoEmotions target is not given away), the threshold minimises polarity inversions
on the product dev set, then maximises product dev + GoEmotions dev macro-F1:

| threshold | product dev inversions (all lines) | product dev F1 | GoEmotions dev F1 |
|---|---|---|---|
{threshold_rows}

**When the cues contradict the head, no emotion below {conflict:.2f}**: the text cues
(`store.retrieval.cues.polarity`: praise negated, taken back or lost, or an angry or sad
emoji, point to an unhappy emotion; a complaint negated, a disliked thing gone, or a happy
emoji, to delight; with the text's leanings, `store.retrieval.cues.leanings`: relief, praise
by comparison, nostalgia) may point to the other polarity than the head's label (delighted
against unhappy cues; frustrated or disappointed against happy ones). Below a confidence of
{conflict:.2f} such a label is not shown either (`store.retrieval.emotion.contradicted`):
abstaining is never an inversion, but it costs recall. The conflict threshold is chosen on
both dev sets after the threshold above: among those that cost at most {GE_DEV_MARGIN} of
GoEmotions dev and of product dev macro-F1 against no rule, the fewest inversions on both dev
sets, then the best product dev + GoEmotions dev macro-F1, then the lowest threshold (1.00: a
contradicted label is never shown):

| conflict threshold | withheld (both dev sets) | product dev inv. | GoEmotions dev inv. \
| product dev F1 | GoEmotions dev F1 |
|---|---|---|---|---|---|
{conflict_rows}

The model's own lower layers stay frozen: the app reads the hidden states entering layer
{layer} from the same forward pass that makes the quote's vector (`store.retrieval.embeddings.Tap`,
`store.retrieval.emotion.EmotionReader`) and the quote's text for the cues, so a quote is
encoded once. The head only runs on a model whose layer {below} has the fingerprint it was
trained on (`{fingerprint}`); with another model emotions switch off with a log line. Each
guessed emotion is stored with the head's version (a hash of the file, `quotes.emotion_model`):
a server started with a different head guesses those quotes again, while an emotion a person
chose is kept.

Training (this run): {training}

Figures are computed by loading the written file through `store.retrieval.emotion`, i.e.
exactly what ships (float16 rounding included); the sanity set goes end to end through
`EmotionReader`. Confidence is the calibrated softmax probability of the chosen class.

## Example sentences (end to end)

| sentence | shown | {emotions} |
|---|---|{dashes}
{sanity}

## What else was tried (dev macro-F1)

- This run:
{tried}
- Earlier runs (GoEmotions only, no cues; bench/EMOTION.md history): heads on the frozen
  384-d sentence vector all landed at 0.55-0.565 on dev (MLP 256 hidden: 0.556 dev, 0.546
  test); fine-tuning the top layer lifted dev to about 0.64. Feed-forward 1536 units: 0.641;
  768: 0.635; 384: 0.639, so 384 ships (about half a layer of compute per quote). The top two
  layers, full width: 0.659 at four times the compute. Two seeds moved dev by about 0.002, so
  one seed is trained now to keep a run within the time budget.
"""


def load_split(path: Path) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """All texts, mapped label per item (-1 = dropped), keep mask, strict mask."""
    texts, y, strict = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        classes = {MAPPING[lab] for lab in row["labels"] if lab in MAPPING}
        texts.append(row["text"])
        y.append(EMOTIONS.index(classes.pop()) if len(classes) == 1 else -1)
        strict.append(all(lab in MAPPING for lab in row["labels"]))
    y_arr = np.array(y)
    return texts, y_arr, y_arr >= 0, np.array(strict) & (y_arr >= 0)


def load_tsv(path: Path) -> tuple[list[str], np.ndarray, list[set[str]]]:
    """A product-feedback set: texts, labels, tags (``#`` lines are comments)."""
    texts, y, tags = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, _voice, tag, text = line.split("\t")
        texts.append(text)
        y.append(EMOTIONS.index(label))
        tags.append(set(tag.split(",")) - {"-"})
    return texts, np.array(y), tags


class States:
    """Hidden states entering the fine-tuned layer, one variable-length block per text."""

    def __init__(self, flat: np.ndarray, lens: np.ndarray) -> None:
        self.flat, self.lens = flat, lens
        self.offsets = np.concatenate([[0], np.cumsum(lens)])

    def __len__(self) -> int:
        return len(self.lens)

    @staticmethod
    def concat(parts: list[States]) -> States:
        return States(np.concatenate([p.flat for p in parts]),
                      np.concatenate([p.lens for p in parts]))

    def subset(self, rows: np.ndarray) -> States:
        parts = [self.flat[self.offsets[i] : self.offsets[i + 1]] for i in rows]
        return States(np.concatenate(parts) if parts else self.flat[:0], self.lens[rows])

    def batch(self, rows: np.ndarray):
        """Padded float32 tensor (B, T, D) and boolean mask (B, T)."""
        import torch

        width = int(self.lens[rows].max())
        x = np.zeros((len(rows), width, self.flat.shape[1]), np.float32)
        mask = np.zeros((len(rows), width), bool)
        for j, i in enumerate(rows):
            n = self.lens[i]
            x[j, :n] = self.flat[self.offsets[i] : self.offsets[i + 1]]
            mask[j, :n] = True
        return torch.from_numpy(x), torch.from_numpy(mask)

    def apply(self, fn, width: int, batch: int = 256) -> np.ndarray:
        """``fn(states, mask, rows)`` over padded batches of similar length:
        ``(len(self), width)``."""
        order = np.argsort(self.lens)
        out = np.zeros((len(self), width), np.float32)
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            out[rows] = fn(*self.batch(rows), rows)
        return out


def encode(embedder: SentenceTransformerEmbedder, texts: list[str], split: str, layer: int,
           cache: Path) -> tuple[np.ndarray, States]:
    """Sentence vectors and the states entering ``layer``, via the app's Tap; cached."""
    key = hashlib.sha1("\n".join([embedder.fingerprint(layer) or "", str(layer), *texts])
                       .encode()).hexdigest()[:12]
    file = cache / f"{split}-L{layer}-{key}.npz"
    if file.exists():
        with np.load(file) as d:
            return d["vectors"], States(d["flat"], d["lens"])
    t0 = time.time()
    try:
        return _encode(embedder, texts, split, layer, file)
    finally:
        ENCODING[0] += time.time() - t0


ENCODING = [0.0]  # seconds spent encoding texts not found in the cache


def _encode(embedder: SentenceTransformerEmbedder, texts: list[str], split: str, layer: int,
            file: Path) -> tuple[np.ndarray, States]:
    t0 = time.time()
    cache = file.parent
    per_row: list[np.ndarray | None] = [None] * len(texts)

    def consume(rows: np.ndarray, states, mask) -> None:
        lengths = mask.sum(1).tolist()
        block = states.detach().to("cpu").float().numpy().astype(np.float16)
        for j, i in enumerate(rows):
            per_row[int(i)] = block[j, : int(lengths[j])]

    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        if done[0] % 1024 < n:
            print(f"  encoding {split}: {done[0]}/{len(texts)} ({time.time() - t0:.0f}s)",
                  flush=True)

    vectors = embedder.encode(texts, batch_size=128, progress=progress, tap=Tap(layer, consume))
    lens = np.array([len(s) for s in per_row], np.int32)  # type: ignore[arg-type]
    flat = np.concatenate(per_row)  # type: ignore[arg-type]
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(file, vectors=vectors, flat=flat, lens=lens)
    print(f"  encoded {split}: {len(texts)} texts in {time.time() - t0:.0f}s", flush=True)
    return vectors, States(flat, lens)


def macro_f1(y: np.ndarray, pred: np.ndarray, average: str | None = "macro"):
    """Macro-F1 over the five classes (``average=None``: per-class array)."""
    f1 = f1_score(y, pred, labels=range(len(EMOTIONS)), average=average, zero_division=0)
    return f1 if average is None else float(f1)


def class_weights(y: np.ndarray) -> np.ndarray:
    counts = np.bincount(y, minlength=len(EMOTIONS))
    return ((counts.sum() / counts / len(EMOTIONS)) ** CLASS_WEIGHT_POWER).astype(np.float32)


def make_block(hf_layer):
    """A BERT layer as a plain torch module, initialised from ``hf_layer``'s weights."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Block(nn.Module):
        def __init__(self, dim: int, heads: int, inner: int, eps: float) -> None:
            super().__init__()
            self.heads, self.eps = heads, eps
            self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))
            self.ln1, self.ln2 = nn.LayerNorm(dim, eps=eps), nn.LayerNorm(dim, eps=eps)
            self.i, self.out = nn.Linear(dim, inner), nn.Linear(inner, dim)

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            b, t, d = x.shape
            hd = d // self.heads

            def split(z: torch.Tensor) -> torch.Tensor:
                return z.view(b, t, self.heads, hd).transpose(1, 2)

            att = (split(self.q(x)) @ split(self.k(x)).transpose(-1, -2)) / math.sqrt(hd)
            att = att.masked_fill(~mask[:, None, None, :], -1e4).softmax(-1)
            ctx = (att @ split(self.v(x))).transpose(1, 2).reshape(b, t, d)
            x = self.ln1(x + self.o(ctx))
            return self.ln2(x + self.out(F.gelu(self.i(x))))

    att = hf_layer.attention
    dim = att.self.query.in_features
    heads = getattr(att.self, "num_attention_heads", None) or hf_layer.config.num_attention_heads
    block = Block(dim, heads, hf_layer.intermediate.dense.out_features,
                  att.output.LayerNorm.eps)
    pairs = ((block.q, att.self.query), (block.k, att.self.key), (block.v, att.self.value),
             (block.o, att.output.dense), (block.ln1, att.output.LayerNorm),
             (block.i, hf_layer.intermediate.dense), (block.out, hf_layer.output.dense),
             (block.ln2, hf_layer.output.LayerNorm))
    for mine, theirs in pairs:
        mine.load_state_dict(theirs.state_dict())
    return block


def narrow(block, inner: int) -> None:
    """Keep the ``inner`` feed-forward units with the largest in x out weight norms."""
    import torch
    from torch import nn

    if inner >= block.i.out_features:
        return
    importance = block.i.weight.norm(dim=1) * block.out.weight.norm(dim=0)
    keep = importance.argsort(descending=True)[:inner].sort().values
    dim = block.i.in_features
    new_in, new_out = nn.Linear(dim, inner), nn.Linear(inner, dim)
    with torch.no_grad():
        new_in.weight.copy_(block.i.weight[keep])
        new_in.bias.copy_(block.i.bias[keep])
        new_out.weight.copy_(block.out.weight[:, keep])
        new_out.bias.copy_(block.out.bias)
    block.i, block.out = new_in, new_out


def block_arrays(block, prefix: str) -> dict[str, np.ndarray]:
    """The block's weights under store.retrieval.emotion's names (matrices as float16)."""
    pairs = {"q": block.q, "k": block.k, "v": block.v, "o": block.o, "ln1": block.ln1,
             "i": block.i, "out": block.out, "ln2": block.ln2}
    out = {}
    for name in BLOCK_ARRAYS:
        layer, kind = name.rsplit("_", 1)
        t = (pairs[layer].weight if kind == "w" else pairs[layer].bias).detach().numpy()
        out[prefix + name] = t.astype(np.float16 if t.ndim == 2 else np.float32)
    return out


@dataclass
class Data:
    """States entering the head, labels and text cues of one set."""

    states: States
    y: np.ndarray
    cues: np.ndarray

    @staticmethod
    def concat(parts: list[Data]) -> Data:
        return Data(States.concat([p.states for p in parts]),
                    np.concatenate([p.y for p in parts]), np.concatenate([p.cues for p in parts]))


def load_block(block, arrays: dict[str, np.ndarray], prefix: str) -> None:
    """Set ``block``'s weights from a head file's arrays (inverse of :func:`block_arrays`)."""
    import torch

    pairs = {"q": block.q, "k": block.k, "v": block.v, "o": block.o, "ln1": block.ln1,
             "i": block.i, "out": block.out, "ln2": block.ln2}
    with torch.no_grad():
        for name in BLOCK_ARRAYS:
            layer, kind = name.rsplit("_", 1)
            target = pairs[layer].weight if kind == "w" else pairs[layer].bias
            target.copy_(torch.from_numpy(np.asarray(arrays[prefix + name], np.float32)))


def train_block(embedder: SentenceTransformerEmbedder, layer: int, tr: Data, dv: Data,
                pd: Data, seed: int, lr_block: float, inner: int, epochs: int,
                init: dict[str, np.ndarray] | None = None) -> tuple[float, int, dict]:
    """Fine-tune copies of layers ``layer``.. with a linear classifier and cue weights; the
    epoch with the best GoEmotions dev + product dev macro-F1.

    ``init``: start from a head file's layer and classifier instead of the model's layer.
    ``epochs`` 0: keep that layer frozen and train only the classifier and the cue weights,
    on the layer's pooled output computed once (minutes instead of an hour on 2 cores)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    hf_layers = embedder.transformer_layers()
    blocks = nn.ModuleList([make_block(hf_layers[i]) for i in range(layer, len(hf_layers))])
    dim = tr.states.flat.shape[1]
    head, drop = nn.Linear(dim, len(EMOTIONS)), nn.Dropout(DROP)
    cue_lin = nn.Linear(len(text_cues.CUES), len(EMOTIONS), bias=False)
    nn.init.zeros_(cue_lin.weight)
    for n, blk in enumerate(blocks):
        narrow(blk, int(init[f"b{n}.i_w"].shape[0]) if init is not None else inner)
        if init is not None:
            load_block(blk, init, f"b{n}.")
    if init is not None:
        with torch.no_grad():
            head.weight.copy_(torch.from_numpy(np.asarray(init["head_w"], np.float32)))
            head.bias.copy_(torch.from_numpy(np.asarray(init["head_b"], np.float32)))

    def pool(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for blk in blocks:
            x = blk(x, mask)
        m = mask[..., None].float()
        return (x * m).sum(1) / m.sum(1)

    def snapshot(f1_ge: float, f1_pd: float, epoch: int) -> tuple[float, int, dict]:
        arrays: dict[str, np.ndarray] = {}
        for n, blk in enumerate(blocks):
            arrays.update(block_arrays(blk, f"b{n}."))
        arrays["head_w"] = head.weight.detach().numpy().astype(np.float32).copy()
        arrays["head_b"] = head.bias.detach().numpy().astype(np.float32).copy()
        arrays["cue_w"] = cue_lin.weight.detach().numpy().astype(np.float32).copy()
        arrays["heads"] = np.array(blocks[0].heads)
        arrays["eps"] = np.array(blocks[0].eps)
        arrays["blocks"] = np.array(len(blocks))
        return (f1_ge + f1_pd, epoch, {**arrays, "_dev": np.array([f1_ge, f1_pd])})

    weight = torch.tensor(class_weights(tr.y))
    yt = torch.from_numpy(tr.y).long()
    ct = torch.from_numpy(tr.cues)
    best: tuple[float, int, dict] = (-1.0, -1, {})
    if epochs == 0:  # frozen layer: pooled outputs once, then a linear classifier on them
        blocks.eval()
        with torch.no_grad():
            pooled = {k: torch.from_numpy(d.states.apply(
                lambda x, mask, rows: pool(x, mask).numpy(), dim)) for k, d in
                (("tr", tr), ("dv", dv), ("pd", pd))}
        w0, b0 = head.weight.detach().clone(), head.bias.detach().clone()
        with torch.no_grad():  # the starting classifier, without cues
            floor = macro_f1(dv.y, head(pooled["dv"]).argmax(1).numpy()) - TRAIN_GE_MARGIN
        chosen: tuple = ()
        tried = []
        for anchor in ANCHORS:  # pull towards the starting classifier (0: none)
            with torch.no_grad():
                head.weight.copy_(w0)
                head.bias.copy_(b0)
                cue_lin.weight.zero_()
            params = [{"params": head.parameters(), "lr": LR_HEAD},
                      {"params": cue_lin.parameters(), "lr": LR_CUES, "weight_decay": 0.0}]
            opt = torch.optim.AdamW(params, weight_decay=WD if anchor == 0 else 0.0)
            best_here: tuple = ()
            for epoch in range(LINEAR_EPOCHS):
                perm = torch.from_numpy(rng.permutation(len(tr.y)))
                drop.train()
                for k in range(0, len(perm), 256):
                    rows = perm[k : k + 256]
                    out = head(drop(pooled["tr"][rows])) + cue_lin(ct[rows])
                    loss = F.cross_entropy(out, yt[rows], weight=weight)
                    if anchor:
                        loss = loss + anchor * (((head.weight - w0) ** 2).sum()
                                                + ((head.bias - b0) ** 2).sum())
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                drop.eval()
                with torch.no_grad():
                    f1_ge = macro_f1(dv.y, (head(pooled["dv"]) + cue_lin(
                        torch.from_numpy(dv.cues))).argmax(1).numpy())
                    f1_pd = macro_f1(pd.y, (head(pooled["pd"]) + cue_lin(
                        torch.from_numpy(pd.cues))).argmax(1).numpy())
                # keep GoEmotions dev within the margin of the start, then the best product dev
                key = (f1_ge >= floor, f1_pd if f1_ge >= floor else f1_ge, f1_ge)
                if not best_here or key > best_here[0]:
                    best_here = (key, snapshot(f1_ge, f1_pd, epoch))
            _, (_, ep, arr) = best_here
            tried.append(f"- frozen layer, classifier + cues, anchor {anchor:g}: dev GoEmotions "
                         f"{arr['_dev'][0]:.4f}, product {arr['_dev'][1]:.4f} (epoch {ep + 1})")
            print(" " + tried[-1][1:], flush=True)
            if not chosen or best_here[0] > chosen[0]:
                chosen = best_here
        score, ep, arr = chosen[1]
        return score, ep, {**arr, "_tried": np.array(tried)}

    def forward(x: torch.Tensor, mask: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return head(drop(pool(x, mask))) + cue_lin(c)

    def logits(d: Data) -> np.ndarray:
        blocks.eval()
        drop.eval()
        with torch.no_grad():
            return d.states.apply(lambda x, mask, rows: forward(
                x, mask, torch.from_numpy(d.cues[rows])).numpy(), len(EMOTIONS))

    steps = epochs * math.ceil(len(tr.y) / BATCH)
    opt = torch.optim.AdamW([{"params": blocks.parameters(), "lr": lr_block},
                             {"params": head.parameters(), "lr": LR_HEAD},
                             {"params": cue_lin.parameters(), "lr": LR_CUES,
                              "weight_decay": 0.0}], weight_decay=WD)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[lr_block, LR_HEAD, LR_CUES],
                                                total_steps=steps, pct_start=0.1)
    lens = tr.states.lens
    for epoch in range(epochs):
        blocks.train()
        drop.train()
        t0 = time.time()
        perm, batches = rng.permutation(len(tr.y)), []
        for s in range(0, len(perm), BATCH * 50):  # similar lengths together: less padding
            chunk = perm[s : s + BATCH * 50]
            chunk = chunk[np.argsort(lens[chunk], kind="stable")]
            batches += [chunk[k : k + BATCH] for k in range(0, len(chunk), BATCH)]
        for i in rng.permutation(len(batches)):
            rows = batches[i]
            loss = F.cross_entropy(forward(*tr.states.batch(rows), ct[rows]), yt[rows],
                                   weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        f1_ge = macro_f1(dv.y, logits(dv).argmax(1))
        f1_pd = macro_f1(pd.y, logits(pd).argmax(1))
        print(f"  layer fine-tune seed {seed} epoch {epoch + 1}: dev macro-F1 GoEmotions "
              f"{f1_ge:.4f}, product {f1_pd:.4f} ({time.time() - t0:.0f}s)", flush=True)
        if f1_ge + f1_pd > best[0]:
            best = snapshot(f1_ge, f1_pd, epoch)
    return best


def md_row(*cells: object) -> str:
    """One markdown table row."""
    return "| " + " | ".join(map(str, cells)) + " |"


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising dev negative log-likelihood (grid search)."""

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(1, keepdims=True)
        return float(-(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(1))).mean())

    return float(min(np.arange(0.5, 3.01, 0.05), key=nll))


def fit_bias(logits: np.ndarray, y: np.ndarray, passes: int = 2) -> np.ndarray:
    """Per-class additive logit offsets maximising macro-F1 (coordinate ascent)."""
    bias = np.zeros(logits.shape[1])
    for _ in range(passes):
        for k in range(len(bias)):

            def score(g: float, k: int = k) -> float:
                b = bias.copy()
                b[k] = g
                return macro_f1(y, (logits + b).argmax(1))

            bias[k] = max(np.arange(-1.5, 1.51, 0.125), key=lambda g: (score(g), -abs(g)))
    return bias


def bias_helps(logits: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[bool, float]:
    """2-fold check on dev: does a bias fitted on one half raise macro-F1 on the other?"""
    perm = np.random.default_rng(seed).permutation(len(y))
    halves = (perm[: len(y) // 2], perm[len(y) // 2 :])
    gain = 0.0
    for a, b in (halves, halves[::-1]):
        bias = fit_bias(logits[a], y[a])
        gain += macro_f1(y[b], (logits[b] + bias).argmax(1)) - macro_f1(y[b], logits[b].argmax(1))
    return gain > 0, gain / 2


_BLOCK_LOGITS: dict[tuple[int, str], np.ndarray] = {}


def head_logits(head: EmotionHead, d: Data) -> np.ndarray:
    """The head's logits over cached states and cues, through store.retrieval.emotion (the
    cues of ``d`` replace those the head would compute from the text). The layer's part is
    computed once per set and layer+classifier (heads that differ only in cue weights or
    threshold share it)."""
    digest = hashlib.sha1(b"".join(np.ascontiguousarray(a).tobytes() for a in (
        head.blocks[0]["q_w"], head.blocks[-1]["out_w"], head.head_w, head.head_b))).hexdigest()
    key = (id(d), digest)
    if key not in _BLOCK_LOGITS:
        blank = text_cues.cues([""]) @ head.cue_w.T
        _BLOCK_LOGITS[key] = d.states.apply(
            lambda x, mask, rows: head.logits(x, mask, [""] * len(rows)) - blank,
            len(head.labels))
    return _BLOCK_LOGITS[key] + d.cues @ head.cue_w.T


def signs(texts: list[str], cue_values: np.ndarray | None = None) -> np.ndarray:
    """Where each text's cues and leanings point (``store.retrieval.cues.polarity``), as
    ``EmotionHead.guesses`` reads them for the conflict rule."""
    values = text_cues.cues(texts) if cue_values is None else cue_values
    return text_cues.polarity(values, text_cues.leanings(texts))


def shown_rows(probs: np.ndarray, threshold: float, polarity: np.ndarray | None = None,
               conflict: float = 0.0) -> np.ndarray:
    """Rows the head shows an emotion for: confidence at least ``threshold``, and at least
    ``conflict`` when the row's ``polarity`` (:func:`signs`) contradicts the label (as
    ``EmotionHead.guesses``)."""
    pred, confidence = probs.argmax(1), probs.max(1)
    shown = confidence >= threshold
    if polarity is not None and conflict > 0:
        against = np.array([contradicted(EMOTIONS[k], int(g))
                            for k, g in zip(pred, polarity)], bool)
        shown &= ~(against & (confidence < conflict))
    return shown


def with_threshold(probs: np.ndarray, threshold: float, polarity: np.ndarray | None = None,
                   conflict: float = 0.0) -> np.ndarray:
    """Predicted class per row; no emotion (:func:`shown_rows`) is scored as neutral."""
    pred = probs.argmax(1)
    pred[~shown_rows(probs, threshold, polarity, conflict)] = EMOTIONS.index("neutral")
    return pred


def product_scores(y: np.ndarray, probs: np.ndarray, tags: list[set[str]],
                   threshold: float, polarity: np.ndarray | None = None,
                   conflict: float = 0.0) -> dict:
    """Macro-F1 on the unambiguous lines (no sarcasm/ambiguous tag; no emotion = neutral),
    polarity inversions (all lines, and the unambiguous ones) and per-tag accuracy."""
    pred = probs.argmax(1)
    shown = shown_rows(probs, threshold, polarity, conflict)
    scored = with_threshold(probs, threshold, polarity, conflict)
    plain = np.array([not (t & {"sarcasm", "ambiguous"}) for t in tags])
    inv = np.array([bool(s) and inverted(EMOTIONS[a], EMOTIONS[b])
                    for a, b, s in zip(y, pred, shown)])
    per_tag = {}
    for tag in TAGS:
        rows = np.array([tag in t for t in tags])
        if rows.any():
            per_tag[tag] = (int((scored[rows] == y[rows]).sum()), int(rows.sum()))
    return {"f1": macro_f1(y[plain], scored[plain]), "inv": int(inv[plain].sum()),
            "inv_all": int(inv.sum()), "n_plain": int(plain.sum()),
            "abstain": int((~shown).sum()), "tags": per_tag,
            "inverted": [int(i) for i in np.flatnonzero(inv)], "pred": pred}


def read_head(spec: str) -> io.BytesIO:
    """A head file's bytes from a path, or from git as ``REVISION:PATH`` (e.g.
    ``2753070:store/data/emotion_head.npz``, so that a run starting from an earlier head can
    be repeated from the repository alone)."""
    if Path(spec).is_file():
        return io.BytesIO(Path(spec).read_bytes())
    if ":" not in spec:
        sys.exit(f"error: --init {spec}: no such file (or REVISION:PATH for git)")
    done = subprocess.run(["git", "-C", str(REPO), "show", spec], capture_output=True,
                          check=False)
    if done.returncode:
        sys.exit(f"error: --init {spec}: {done.stderr.decode().strip()}")
    return io.BytesIO(done.stdout)


def padded(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A previous head file made loadable: before the cues, no cue weights and no threshold;
    before the conflict rule, none (it behaves exactly as it did); trained on older cues, its
    cue weights read this code's cues (same columns)."""
    out = dict(arrays)
    out.setdefault("cue_w", np.zeros((len(EMOTIONS), len(text_cues.CUES)), np.float32))
    out["cues"] = np.array(text_cues.VERSION)
    out.setdefault("threshold", np.array([0.0], np.float32))
    out.setdefault("conflict_threshold", np.array([0.0], np.float32))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data",
                    help="directory holding goemotions/{train,dev,test}.jsonl")
    ap.add_argument("--out", type=Path, default=REPO / "store" / "data" / "emotion_head.npz")
    ap.add_argument("--report", type=Path, default=REPO / "bench" / "EMOTION.md")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/voicebot-emotion-cache"))
    ap.add_argument("--blocks", type=int, default=BLOCKS,
                    help=f"top layers to fine-tune (default {BLOCKS}; each costs one more "
                    "layer of compute per encoded quote)")
    ap.add_argument("--inner", type=int, default=INNER,
                    help=f"feed-forward units kept in each fine-tuned layer (default {INNER}; "
                    "all-MiniLM-L6-v2 has 1536)")
    ap.add_argument("--lr-block", type=float, default=LR_BLOCK,
                    help=f"learning rate of the fine-tuned layers (default {LR_BLOCK:g})")
    ap.add_argument("--epochs", type=int, default=EPOCHS,
                    help=f"epochs of layer fine-tuning (default {EPOCHS}); 0 keeps the layer "
                    "frozen and trains only the classifier and the cue weights")
    ap.add_argument("--init", type=str, default=None,
                    help="start from this head file's layer and classifier (e.g. the shipped "
                    "store/data/emotion_head.npz, or REVISION:PATH from git) instead of the "
                    "model's own layer")
    ap.add_argument("--keep", action="store_true",
                    help="train nothing: keep the --init head's layer, classifier and cue "
                    "weights; choose only the calibration and the thresholds on dev again")
    ap.add_argument("--train-sample", type=int, default=0,
                    help="use a fixed random sample of this many GoEmotions train items (seed "
                    "0; 0: all). With --epochs 0 only the classifier learns from them, so a "
                    "few thousand suffice and encoding stays within a CPU budget")
    ap.add_argument("--product", type=int, default=PRODUCT_PER_CLASS,
                    help=f"synthetic product lines per class (default {PRODUCT_PER_CLASS}; 0: "
                    "GoEmotions only)")
    ap.add_argument("--train-lines", type=Path, nargs="+", default=None,
                    help="files of hand-written product-feedback lines to train on as well "
                    "(the dev set's columns: label, voice, tags, text; e.g. "
                    "bench/data/emotion_product_train.tsv); none by default")
    ap.add_argument("--threads", type=int,
                    default=int(os.environ.get("VOICEBOT_TORCH_THREADS", "2")),
                    help="torch CPU threads (default: $VOICEBOT_TORCH_THREADS or 2)")
    ap.add_argument("--emoji-share", type=float, default=EMOJI_SHARE,
                    help=f"share of GoEmotions train items also given an emoji (default "
                    f"{EMOJI_SHARE})")
    args = ap.parse_args()
    if args.keep and args.init is None:
        sys.exit("error: --keep keeps the --init head: pass --init")

    ge = args.data.resolve() / "goemotions"
    missing = [f"{s}.jsonl" for s in ("train", "dev", "test") if not (ge / f"{s}.jsonl").is_file()]
    if missing:
        sys.exit(f"error: GoEmotions not found: {ge} lacks {', '.join(missing)} "
                 "(pass --data DIR containing goemotions/)")

    import torch

    torch.set_num_threads(args.threads)
    t_start = time.time()
    embedder = SentenceTransformerEmbedder()
    n_layers = len(embedder.transformer_layers())
    layer = n_layers - args.blocks
    data, kept_texts = {}, {}
    load_start = os.getloadavg()
    for split in ("dev", "test", "train"):  # dev and test first: their rate tells train's
        texts, y, keep, strict = load_split(ge / f"{split}.jsonl")
        kept = [t for t, k in zip(texts, keep) if k]
        y, strict = y[keep], strict[keep]
        if split == "train" and 0 < args.train_sample < len(kept):
            rows = np.sort(np.random.default_rng(0).choice(len(kept), args.train_sample,
                                                           replace=False))
            kept, y, strict = [kept[i] for i in rows], y[rows], strict[rows]
        vectors, states = encode(embedder, kept, split, layer, args.cache)
        data[split] = (vectors, states, y, strict, len(texts))
        kept_texts[split] = kept
    data = {k: data[k] for k in ("train", "dev", "test")}
    (xtr, str_, ytr, _, _), (xdv, sdv, ydv, _, _), (xte, ste, yte, strict_te, _) = data.values()
    ge_dv = Data(sdv, ydv, text_cues.cues(kept_texts["dev"]))
    ge_te = Data(ste, yte, text_cues.cues(kept_texts["test"]))
    ge_dv_signs, ge_te_signs = (signs(kept_texts[k], d.cues)
                                for k, d in (("dev", ge_dv), ("test", ge_te)))
    pd_texts, ypd, pd_tags = load_tsv(PRODUCT_DEV)
    sn_texts, ysn, sn_tags = load_tsv(SANITY_SET)
    pd = Data(encode(embedder, pd_texts, "product-dev", layer, args.cache)[1], ypd,
              text_cues.cues(pd_texts))
    pd_signs = signs(pd_texts, pd.cues)
    parts = [Data(str_, ytr, text_cues.cues(kept_texts["train"]))]
    lines = product_lines(args.product) if args.product else []
    if lines:
        syn_texts = [t for t, _ in lines]
        parts.append(Data(encode(embedder, syn_texts, "product-train", layer, args.cache)[1],
                          np.array([EMOTIONS.index(e) for _, e in lines]),
                          text_cues.cues(syn_texts)))
    hand_texts, yhand = [], np.zeros(0, int)
    if args.train_lines is not None:
        loaded = [load_tsv(path) for path in args.train_lines]
        hand_texts = [t for texts, _, _ in loaded for t in texts]
        yhand = np.concatenate([y for _, y, _ in loaded])
        parts.append(Data(encode(embedder, hand_texts, "product-lines", layer, args.cache)[1],
                          yhand, text_cues.cues(hand_texts)))
    variants = emoji_variants(kept_texts["train"], ytr.tolist(), args.emoji_share)
    if variants:
        rows = np.array([r for r, _, _ in variants])
        parts.append(Data(str_.subset(rows), np.array([y for _, _, y in variants]),
                          text_cues.cues([t for _, t, _ in variants])))
    train = Data.concat(parts)
    sample = np.sort(np.random.default_rng(SAMPLE_SEED).choice(len(yte), SAMPLE_SIZE,
                                                               replace=False))
    rows_: list[tuple] = []  # name, dev, test, 2k, strict test

    def record(name: str, pred_dev: np.ndarray, pred_te: np.ndarray) -> None:
        scores = [macro_f1(yte[m], pred_te[m]) for m in (slice(None), sample, strict_te)]
        rows_.append((name, macro_f1(ydv, pred_dev), *scores))
        print("  {}: dev {:.4f} test {:.4f} 2k {:.4f} strict {:.4f}".format(*rows_[-1]),
              flush=True)

    print("baselines on the frozen sentence vector", flush=True)
    desc = embedder.encode([DESCRIPTIONS[e] for e in EMOTIONS])
    record("zero-shot similarity to class descriptions", (xdv @ desc.T).argmax(1),
           (xte @ desc.T).argmax(1))
    lr = LogisticRegression(C=100.0, max_iter=3000).fit(xtr, ytr)
    record("logistic regression (C=100, dev-selected in earlier runs)", lr.predict(xdv),
           lr.predict(xte))

    product_rows: list[tuple[str, dict, dict]] = []  # name, product dev, sanity

    sn = Data(encode(embedder, sn_texts, "sanity", layer, args.cache)[1], ysn,
              text_cues.cues(sn_texts))
    sn_signs = signs(sn_texts, sn.cues)

    def evaluate(name: str, head: EmotionHead, end_to_end: bool = False) -> tuple[dict, dict]:
        """GoEmotions, product dev and the sanity set through ``head`` (cached states; the
        sanity set through ``EmotionReader`` from the raw text when ``end_to_end``)."""
        def probs(d: Data) -> np.ndarray:
            return head.probabilities_from_logits(head_logits(head, d))

        t, c = head.threshold, head.conflict_threshold
        record(name, with_threshold(probs(ge_dv), t, ge_dv_signs, c),
               with_threshold(probs(ge_te), t, ge_te_signs, c))
        sn_probs = (EmotionReader(embedder, head).probabilities(sn_texts)[1] if end_to_end
                    else probs(sn))
        result = (product_scores(ypd, probs(pd), pd_tags, t, pd_signs, c),
                  product_scores(ysn, sn_probs, sn_tags, t, sn_signs, c))
        product_rows.append((name, *result))
        print(f"  {name}: product dev {result[0]['f1']:.3f}, sanity {result[1]['f1']:.3f} "
              f"(inversions {result[1]['inv']}, with sarcasm {result[1]['inv_all']})",
              flush=True)
        return result

    previous = None
    if args.out.exists():
        with np.load(args.out) as f:
            previous = {k: f[k] for k in f.files}
        name = ("previous shipped head (no cues, no threshold)" if "cue_w" not in previous
                else f"previous shipped head ({previous['cues']} weights on {text_cues.VERSION})"
                if str(previous["cues"]) != text_cues.VERSION else "previous shipped head")
        evaluate(name, EmotionHead(padded(previous)))
    init = None
    if args.init is not None:
        with np.load(read_head(args.init)) as f:
            init = {k: f[k] for k in f.files}
        if previous is None or any(k not in previous or not np.array_equal(init[k], previous[k])
                                   for k in ("head_w", "head_b")):
            evaluate(f"starting head (`--init {args.init}`"
                     + (", no cues, no threshold)" if "cue_w" not in init else ")"),
                     EmotionHead(padded(init)))

    t_train = time.time()
    if args.keep:
        assert init is not None
        trained = ("head_w", "head_b", "cue_w", "heads", "eps", "blocks")
        arrays = {k: v for k, v in init.items() if k in trained or k[:1] == "b" and "." in k}
        seed, epoch = SEEDS[0], -1
        raw_head = EmotionHead({**padded(init), "temperature": np.array([1.0], np.float32),
                                "bias": np.zeros(len(EMOTIONS), np.float32),
                                "threshold": np.array([0.0], np.float32),
                                "conflict_threshold": np.array([0.0], np.float32)})
        f1_ge_dev = macro_f1(ydv, head_logits(raw_head, ge_dv).argmax(1))
        f1_pd_dev = macro_f1(ypd, head_logits(raw_head, pd).argmax(1))
        selected = (f"dev GoEmotions {f1_ge_dev:.4f}, product {f1_pd_dev:.4f} before "
                    "calibration")
        tried = [f"  - `--keep`: the layer, classifier and cue weights of `{args.init}`"]
    else:
        print(f"fine-tuning layer {layer} of {n_layers} on {len(train.y)} items "
              f"({len(lines)} synthetic product lines, {len(hand_texts)} hand-written lines, "
              f"{len(variants)} emoji variants)",
              flush=True)
        runs = {seed: train_block(embedder, layer, train, ge_dv, pd, seed, args.lr_block,
                                  args.inner, args.epochs, init) for seed in SEEDS}
        seed = max(runs, key=lambda s: runs[s][0])
        _, epoch, arrays = runs[seed]
        f1_ge_dev, f1_pd_dev = arrays.pop("_dev")
        anchors = [str(t) for t in arrays.pop("_tried", [])]
        selected = (f"seed {seed}, epoch {epoch + 1} (dev GoEmotions {f1_ge_dev:.4f}, product "
                    f"{f1_pd_dev:.4f} before calibration)")
        tried = ["  " + t for t in anchors] or [
            f"  - fine-tuned layer + cues, seed {s}: best dev GoEmotions + product {r[0]:.4f} "
            f"at epoch {r[1] + 1}" for s, r in runs.items()]
    train_minutes = (time.time() - t_train) / 60
    arrays.update(labels=np.array(EMOTIONS), layer=np.array(layer),
                  fingerprint=np.array(embedder.fingerprint(layer)),
                  model=np.array(embedder.name),
                  temperature=np.array([1.0], np.float32),
                  bias=np.zeros(len(EMOTIONS), np.float32),
                  cues=np.array(text_cues.VERSION), threshold=np.array([0.0], np.float32),
                  conflict_threshold=np.array([0.0], np.float32))
    raw = head_logits(EmotionHead(arrays), ge_dv)
    temperature = fit_temperature(raw, ydv)
    use_bias, gain = bias_helps(raw / temperature, ydv)
    bias = fit_bias(raw / temperature, ydv) if use_bias else np.zeros(len(EMOTIONS))
    arrays.update(temperature=np.array([temperature], np.float32),
                  bias=bias.astype(np.float32))
    calibrated = EmotionHead(arrays)
    p_ge = calibrated.probabilities_from_logits(head_logits(calibrated, ge_dv))
    p_pd = calibrated.probabilities_from_logits(head_logits(calibrated, pd))
    choices = []
    for t in THRESHOLDS:
        scores = product_scores(ypd, p_pd, pd_tags, float(t))
        ge_f1 = macro_f1(ydv, with_threshold(p_ge, float(t)))
        choices.append((float(t), scores["inv_all"], scores["f1"], ge_f1))
    # keep the GoEmotions target within reach (measured on dev, with a margin), then fewest
    # inversions on product dev, then the best dev macro-F1
    floor = max(c[3] for c in choices) - GE_DEV_MARGIN
    threshold = min((c for c in choices if c[3] >= floor),
                    key=lambda c: (c[1], -(c[2] + c[3]), c[0]))[0]
    # Then the conflict threshold, on both dev sets: within the same GoEmotions margin (and as
    # much of product dev macro-F1), fewest inversions on both dev sets, then the best dev
    # macro-F1, then the lowest threshold (the fewest labels withheld)
    conflicts = []
    for c in CONFLICT_THRESHOLDS:
        scores = product_scores(ypd, p_pd, pd_tags, threshold, pd_signs, float(c))
        ge_scores = product_scores(ydv, p_ge, [set()] * len(ydv), threshold, ge_dv_signs,
                                   float(c))
        against = sum(int((shown_rows(p, threshold) & ~shown_rows(p, threshold, cv, float(c)))
                          .sum()) for p, cv in ((p_ge, ge_dv_signs), (p_pd, pd_signs)))
        conflicts.append((float(c), scores["inv_all"] + ge_scores["inv_all"], scores["f1"],
                          ge_scores["f1"], against, scores["inv_all"], ge_scores["inv_all"]))
    ge_floor = conflicts[0][3] - GE_DEV_MARGIN
    pd_floor = conflicts[0][2] - GE_DEV_MARGIN
    conflict = min((c for c in conflicts if c[3] >= ge_floor and c[2] >= pd_floor),
                   key=lambda c: (c[1], -(c[2] + c[3]), c[0]))[0]
    print(f"  selected seed {seed} (epoch {epoch + 1}); T={temperature:.2f}; bias 2-fold dev "
          f"gain {gain:+.4f} ({'applied' if use_bias else 'not applied'}) "
          f"{np.round(bias, 3)}; threshold {threshold:.2f}; conflict threshold {conflict:.2f}",
          flush=True)
    arrays.update(threshold=np.array([threshold], np.float32),
                  conflict_threshold=np.array([conflict], np.float32))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, **arrays)

    head = EmotionHead.load(args.out)  # evaluate exactly what ships
    no_cues = EmotionHead({**arrays, "cue_w": np.zeros_like(arrays["cue_w"])})
    evaluate("same head, cue weights zeroed (no emoji/negation cues)", no_cues)
    evaluate("same head, no threshold, no conflict rule", EmotionHead(
        {**arrays, "threshold": np.array([0.0]), "conflict_threshold": np.array([0.0])}))
    evaluate("same head, no conflict rule", EmotionHead(
        {**arrays, "conflict_threshold": np.array([0.0])}))
    pd_score, sn_score = evaluate(f"**shipped: fine-tuned top layer + cues** (seed {seed}, "
                                  "calibrated, threshold)", head, end_to_end=True)
    ge_test = rows_[-1][2]
    pte = with_threshold(head.probabilities_from_logits(head_logits(head, ge_te)), threshold,
                         ge_te_signs, conflict)
    per_class = zip(EMOTIONS, macro_f1(yte, pte, None), macro_f1(yte[sample], pte[sample], None))
    reader = EmotionReader(embedder, head)
    _, probs = reader.probabilities(list(SANITY) + list(KNOWN_FAILURES))
    shown_texts = list(SANITY) + list(KNOWN_FAILURES)
    guesses = head.guesses(probs, text_cues.cues(shown_texts), text_cues.leanings(shown_texts))
    out = args.out.resolve()
    counts = {k: np.bincount(d[2], minlength=len(EMOTIONS)) for k, d in data.items()}
    pd_counts = np.bincount(ypd, minlength=len(EMOTIONS))
    sn_plain = [not (t & {"sarcasm", "ambiguous"}) for t in sn_tags]
    sn_counts = np.bincount(ysn[np.array(sn_plain)], minlength=len(EMOTIONS))
    verdict = {True: "**met**", False: "**missed**"}
    known = [EMOTIONS[int(p.argmax())] if g.label else "(no emotion)"
             for p, g in zip(probs[len(SANITY):], guesses[len(SANITY):])]
    targets = [
        ("GoEmotions test macro-F1 ≥ 0.62", f"{ge_test:.3f}", verdict[ge_test >= 0.62]),
        (f"sanity set macro-F1 ≥ 0.90 ({sn_score['n_plain']} unambiguous lines)",
         f"{sn_score['f1']:.3f}", verdict[sn_score["f1"] >= 0.90]),
        ("no polarity inversions on the sanity set's unambiguous lines",
         str(sn_score["inv"]), verdict[sn_score["inv"] == 0]),
        ("known failures of issue 13 not neutral / not delighted",
         ", ".join(known), verdict[known[0] == "frustrated" and known[1] != "neutral"
                                   and known[2] not in ("delighted", "neutral")]),
    ]
    inverted_lines = [f"  - “{sn_texts[i]}” ({EMOTIONS[ysn[i]]} → "
                      f"{EMOTIONS[int(sn_score['pred'][i])]})"
                      for i in sn_score["inverted"]]

    def product_row(name: str, a: dict, b: dict) -> str:
        return md_row(name, f"{a['f1']:.3f}", a["inv_all"], a["abstain"], f"{b['f1']:.3f}",
                      b["inv"], b["inv_all"], b["abstain"])

    def tag_row(tag: str) -> str:
        n = sn_score["tags"].get(tag)
        return md_row(tag, f"{n[0]}/{n[1]}" if n else "-")

    ge_train = f"a sample of {len(ytr)} GoEmotions train items" if args.train_sample else \
        "GoEmotions train"
    hand = f"{len(hand_texts)} hand-written product lines, " if args.train_lines else ""
    items = (f"{len(train.y)} items ({ge_train}, {len(lines)} synthetic product lines, {hand}"
             f"{len(variants)} GoEmotions items with an emoji)")
    if args.keep:
        training = (
            f"`bench/train_emotion.py {' '.join(sys.argv[1:])}`: nothing trained. The layer, "
            f"classifier and cue weights are those of `{args.init}` (see that commit's "
            "bench/EMOTION.md for how they were trained); the temperature, the per-class "
            "correction, the confidence threshold and the conflict threshold are chosen on "
            f"dev as below; {selected}.")
    elif args.epochs == 0:
        training = (
            f"`bench/train_emotion.py {' '.join(sys.argv[1:])}`. The layer and classifier "
            f"start from `{args.init}`; the layer stays frozen and "
            "its pooled output is computed once. The classifier (AdamW, lr "
            f"{LR_HEAD}) and the cue weights (lr {LR_CUES}, no decay) are trained "
            f"{LINEAR_EPOCHS} epochs, batch 256, dropout {DROP} before the classifier, "
            f"cross-entropy weighted by inverse class frequency^{CLASS_WEIGHT_POWER}, on "
            f"{items}. An L2 pull towards the previous classifier (or, at 0, weight decay "
            f"{WD}) is chosen with the epoch on dev among {ANCHORS}: the run that keeps "
            f"GoEmotions dev macro-F1 within {TRAIN_GE_MARGIN} of the starting classifier's, then "
            f"has the best product dev macro-F1; selected: {selected}.")
    else:
        training = (
            f"`bench/train_emotion.py {' '.join(sys.argv[1:])}`; layer "
            + (f"and classifier from `{args.init}`" if args.init else "from the model")
            + f". {items}; AdamW (layer lr {args.lr_block}, classifier lr {LR_HEAD}, cue lr "
            f"{LR_CUES}, weight decay {WD}, none on the cues), one-cycle schedule, "
            f"{args.epochs} epochs, batch {BATCH}, dropout {DROP} before the classifier, "
            f"cross-entropy weighted by inverse class frequency^{CLASS_WEIGHT_POWER}; epoch "
            f"and seed ({', '.join(map(str, SEEDS))}) chosen on GoEmotions dev + product dev "
            f"macro-F1; selected: {selected}.")
    report = REPORT.format(
        **{**globals(), "LR_BLOCK": args.lr_block, "EPOCHS": args.epochs},
        blocks=args.blocks, n_layers=n_layers, inner=args.inner,
        training=training,
        date=dt.date.today().isoformat(),
        data=args.data,
        mapping="\n".join(f"- {', '.join(ls)} → **{e}**" for e, ls in GROUPS.items()),
        emotions=" | ".join(EMOTIONS),
        dashes="---|" * len(EMOTIONS),
        splits="\n".join(md_row(k, d[4], len(d[2]), *counts[k]) for k, d in data.items()),
        product_splits="\n".join([
            md_row("product dev (bench/data, tuning)", len(ypd), len(ypd), *pd_counts),
            md_row("sanity (tests/data, test only)", len(ysn), sum(sn_plain), *sn_counts),
            md_row("synthetic product lines (train)", len(lines), len(lines),
                   *np.bincount([EMOTIONS.index(e) for _, e in lines],
                                minlength=len(EMOTIONS))),
            *([md_row("hand-written product lines (train, "
                      f"{', '.join(f'`{p}`' for p in args.train_lines)})",
                      len(yhand), len(yhand), *np.bincount(yhand, minlength=len(EMOTIONS)))]
              if args.train_lines is not None else []),
            md_row("GoEmotions train items with an emoji (train)", len(variants),
                   len(variants), *np.bincount([y for _, _, y in variants],
                                               minlength=len(EMOTIONS)))]),
        results="\n".join(md_row(r[0], *(f"{v:.3f}" for v in r[1:])) for r in rows_),
        product_results="\n".join(product_row(*r) for r in product_rows),
        targets="\n".join(md_row(*t) for t in targets),
        tag_rows="\n".join(tag_row(t) for t in TAGS),
        inverted_lines="\n".join(inverted_lines) or "  - none",
        prompts="; ".join(f"{e}: “{d}”" for e, d in DESCRIPTIONS.items()),
        per_class="\n".join(md_row(e, f"{a:.3f}", f"{b:.3f}") for e, a, b in per_class),
        path=out.relative_to(REPO) if out.is_relative_to(REPO) else out,
        kib=out.stat().st_size / 1024,
        layer=layer, below=layer - 1, fingerprint=embedder.fingerprint(layer),
        temperature=temperature,
        bias=np.round(bias, 3).tolist(),
        applied="applied" if use_bias else "not applied",
        gain=gain, threshold=threshold,
        threshold_rows="\n".join(md_row(f"{t:.2f}", inv, f"{f:.3f}", f"{g:.3f}")
                                  for t, inv, f, g in choices),
        conflict=conflict,
        conflict_rows="\n".join(md_row(f"{c:.2f}", n, inv_p, inv_g, f"{f:.3f}", f"{g:.4f}")
                                 for c, _, f, g, n, inv_p, inv_g in conflicts),
        cue_w="\n".join(md_row(c, *(f"{v:+.2f}" for v in head.cue_w[:, j]))
                         for j, c in enumerate(text_cues.CUES)),
        seeds=", ".join(map(str, SEEDS)),

        train_items=len(train.y), train_minutes=train_minutes,
        encode_minutes=ENCODING[0] / 60, argv=" ".join(sys.argv[1:]),
        load_start=" / ".join(f"{v:.1f}" for v in load_start),
        load_end=" / ".join(f"{v:.1f}" for v in os.getloadavg()),
        total_minutes=(time.time() - t_start) / 60,
        sanity="\n".join(md_row(t, g.label or "(no emotion)", *(f"{v:.2f}" for v in p))
                          for t, p, g in zip(list(SANITY) + list(KNOWN_FAILURES), probs,
                                             guesses)),
        tried="\n".join(tried),
    )
    args.report.write_text(report, encoding="utf-8")
    print(f"wrote {args.out} ({out.stat().st_size} bytes) and {args.report}", flush=True)


if __name__ == "__main__":
    main()
