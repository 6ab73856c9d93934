"""What capture, import, edits and re-embedding share: words to vectors (with the emotion
head in the same pass), and new quotes into the index with their near-duplicate voices.

:class:`Encoder` encodes; :class:`NewVectors` puts freshly stored quotes into their team's
FAISS index and links each to an earlier capture of the same words.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from store.queries import voices
from store.queries.quotes import NewQuote
from store.retrieval.embeddings import Embedder, encode_topic
from store.retrieval.index import IndexRegistry, QuoteIndex
from store.retrieval.ranking import NEAR_DUPLICATE_THRESHOLD, normalize_text, same_text

Progress = Callable[[int], None]
#: Quotes whose normalized words :class:`NewVectors` keeps between batches, the most recently
#: used: an import batch of 512 and their nearest earlier quotes fit, and a server that runs
#: for months holds at most this many (~2 MB), not one entry per quote it ever linked.
NORMALIZED_KEPT = 4096
#: Per dimension, how far from the threshold :func:`at_least_threshold` trusts a search
#: score: twice the most two float32 computations of the inner product of unit vectors can
#: differ, summed in any order (each is off by at most dim x 2^-24: 2.3e-5 at 384 dims).
SLACK_PER_DIM = 2 * float(np.finfo(np.float32).eps)


class EmotionEncoder(Protocol):
    """Vectors and emotions from one encoding pass (``store.retrieval.emotion.EmotionReader``)."""

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: Progress | None = None) -> tuple[np.ndarray, Sequence[Any]]: ...


def emotion_fields(guess: Any) -> dict[str, Any]:
    """The stored columns for a guessed emotion (an ``EmotionGuess``): no emotion when the
    head was unsure, and always the head's version, so that another head guesses again."""
    return {"emotion": guess.label,
            "emotion_confidence": round(float(guess.confidence), 4) if guess.label else None,
            "emotion_model": guess.version or None}


class Encoder:
    """The embedding model, and the emotion head reading the same pass when one is wired
    (``emotions`` encodes with the same model as ``embedder``; without it quotes are stored
    with no emotion)."""

    def __init__(self, embedder: Embedder, emotions: EmotionEncoder | None = None) -> None:
        self.embedder = embedder
        self.emotions = emotions

    @property
    def model(self) -> str:
        return self.embedder.name

    @property
    def emotion_version(self) -> str | None:
        """The wired emotion head's version (None without one)."""
        head = getattr(self.emotions, "head", None)
        version = getattr(head, "version", None)
        return str(version) if version else None

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, Sequence[Any] | None]:
        """Vectors, and emotion guesses when an emotion head is wired (same pass)."""
        if self.emotions is None:
            return self.embedder.encode(texts), None
        return self.emotions.encode(texts)

    def warm_up(self) -> None:
        """Encode once so that the first request does not pay for set-up, and page in the
        model's weights (``touch_weights``) so that resident memory does not grow with the
        vocabulary of later quotes."""
        touch = getattr(self.embedder, "touch_weights", None)
        if callable(touch):
            touch()
        self.embedder.encode(["warm-up"])
        encode_topic(self.embedder, "warm-up")
        if self.emotions is not None:
            self.emotions.encode(["warm-up"])

    @staticmethod
    def with_emotion(items: Sequence[NewQuote],
                     guesses: Sequence[Any] | None) -> list[NewQuote]:
        """Fill the guessed emotion where the item does not already carry one."""
        if guesses is None:
            return list(items)
        return [it if it.emotion else replace(it, **emotion_fields(g))
                for it, g in zip(items, guesses)]


class NewVectors:
    """Freshly stored quotes into their team's index, linked to earlier captures."""

    def __init__(self, sessions: sessionmaker[Session], indexes: IndexRegistry) -> None:
        self.sessions = sessions
        self.indexes = indexes
        #: ``{quote id: (text, normalize_text(text))}`` of quotes lately compared
        self._normalized: OrderedDict[int, tuple[str, str]] = OrderedDict()
        self._normalized_lock = threading.Lock()  # captures link from several workers

    def add(self, team_id: str, ids: Sequence[int], vecs: np.ndarray,
            texts: Sequence[str] | None = None) -> dict[int, int]:
        """Index the new quotes; returns ``{new id: first capture id}`` for repeated words."""
        self.indexes.get(team_id).upsert(list(ids), vecs)
        return self.link_voices(team_id, ids, vecs, texts)

    def link_voices(self, team_id: str, ids: Sequence[int], vecs: np.ndarray,
                    texts: Sequence[str] | None = None) -> dict[int, int]:
        """Mark new quotes whose words were already captured as the same voice as the earlier
        capture, by the rule measured in bench/near_duplicates.py (``ranking.is_near_duplicate``:
        the same or contained normalized text, or cosine >= NEAR_DUPLICATE_THRESHOLD), among
        each quote's 5 nearest in the index (their cosines are the search's,
        :func:`at_least_threshold`). Only the quotes with an earlier one among their
        nearest, and those earlier ones, are read from the database (not the new ones when
        the caller gives their ``texts``, as stored just now). Their normalized words
        are kept for the next batch only for a batch of several quotes (an import): a
        capture's one quote keeps nothing, so a server's memory does not grow with them."""
        index = self.indexes.get(team_id)
        nearest, cosines = index.nearest(vecs[: len(ids)], 5)
        new = np.asarray(ids, dtype=np.int64)[: len(nearest)]
        earlier = nearest < new[:, None]
        rows = np.flatnonzero(earlier.any(axis=1))
        if not len(rows):
            return {}
        wanted = set(new[rows].tolist()) | set(nearest[earlier].tolist())
        given = {} if texts is None else dict(zip(new.tolist(), texts))
        found: dict[int, str] = {}
        if wanted - given.keys():
            with self.sessions() as session:
                found = voices.texts(session, wanted - given.keys())
        found.update((i, given[i]) for i in wanted & given.keys())
        words = self._words_of(found, keep=len(ids) > 1)
        links: dict[int, int] = {}
        for r in rows.tolist():
            quote_id = int(new[r])
            mine = words.get(quote_id, "")  # normalize_text("") for a quote since removed
            same = [i for i, cosine in zip(nearest[r].tolist(), cosines[r].tolist())
                    if i < quote_id and i in words
                    and (at_least_threshold(cosine, vecs[r], index, i)
                         or same_text(mine, words[i]))]
            if same:
                links[quote_id] = min(same)
        if not links:
            return {}
        with self.sessions.begin() as session:
            return voices.link(session, links)

    def _words(self, quote_id: int, text: str, keep: bool = True) -> str:
        """``normalize_text(text)``, kept (with ``keep``) for the next batches of an import
        (whose nearest quotes are often the last batches' quotes), up to
        :data:`NORMALIZED_KEPT` quotes."""
        return self._words_of({quote_id: text}, keep)[quote_id]

    def _words_of(self, texts: Mapping[int, str], keep: bool = True) -> dict[int, str]:
        """:meth:`_words` of each ``{quote id: text}``, the lock taken twice for them all."""
        if not keep:
            return {i: normalize_text(t) for i, t in texts.items()}
        out: dict[int, str] = {}
        with self._normalized_lock:
            for quote_id, text in texts.items():
                known = self._normalized.get(quote_id)
                if known is not None and known[0] == text:
                    self._normalized.move_to_end(quote_id)
                    out[quote_id] = known[1]
        fresh = {i: normalize_text(t) for i, t in texts.items() if i not in out}
        with self._normalized_lock:
            for quote_id, words in fresh.items():
                self._normalized[quote_id] = (texts[quote_id], words)
                self._normalized.move_to_end(quote_id)
            while len(self._normalized) > NORMALIZED_KEPT:
                self._normalized.popitem(last=False)
        out.update(fresh)
        return out


def at_least_threshold(cosine: float, vector: np.ndarray, index: QuoteIndex,
                       quote_id: int) -> bool:
    """Whether ``vector`` and quote ``quote_id``'s stored vector have a cosine of at least
    ``NEAR_DUPLICATE_THRESHOLD``, as ``ranking.near_duplicate`` computes it (``np.dot`` of
    the two), given ``cosine``, the index's search score of the pair (a row of a matrix
    product, which may round differently). Only a score within ``dim x``
    :data:`SLACK_PER_DIM` of the threshold is computed again as ``np.dot``."""
    slack = index.dim * SLACK_PER_DIM
    if cosine >= NEAR_DUPLICATE_THRESHOLD + slack:
        return True
    if cosine < NEAR_DUPLICATE_THRESHOLD - slack:
        return False
    return float(np.dot(vector, index.vectors([quote_id])[0])) >= NEAR_DUPLICATE_THRESHOLD
