"""Stored emotions follow the emotion head: a new head guesses again what an older head
guessed, never what a person chose; an unsure head stores no emotion."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
from sqlalchemy import select

from bot.core.indexing import IndexLoader
from bot.core.vectors import Encoder
from store.models import Quote
from store.queries.quotes import NewQuote
from store.retrieval.embeddings import HashingEmbedder
from store.retrieval.emotion import EmotionGuess


class FakeReader:
    """An emotion head of version ``version`` that answers ``label`` (None: unsure)."""

    def __init__(self, embedder: HashingEmbedder, version: str, label: str | None) -> None:
        self.embedder, self.label = embedder, label
        self.head = SimpleNamespace(version=version)
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: Any = None) -> tuple[np.ndarray, list[EmotionGuess]]:
        self.seen += list(texts)
        return self.embedder.encode(texts), [EmotionGuess(self.label, 0.8, self.head.version)
                                             for _ in texts]


def stored(services: Any) -> dict[str, tuple[str | None, str | None, float | None]]:
    with services.sessions() as session:
        return {r.text: (r.emotion, r.emotion_model, r.emotion_confidence)
                for r in session.scalars(select(Quote))}


def test_a_new_head_guesses_again_but_keeps_what_people_chose(make_services,
                                                              database_url: str) -> None:
    services = make_services(database_url)
    embedder = services.encoder.embedder
    services.encoder.emotions = FakeReader(embedder, "head-1", "delighted")
    services.imports.import_quotes([
        (1, NewQuote(team_id="T1", text="I am not happy with your company.")),
        (2, NewQuote(team_id="T1", text="We export every Monday.", emotion="frustrated",
                     emotion_confidence=1.0)),  # chosen by the person importing
        (3, NewQuote(team_id="T1", text="Where is the settings page?"))])
    assert stored(services)["I am not happy with your company."] == \
        ("delighted", "head-1", 0.8)
    assert stored(services)["We export every Monday."] == ("frustrated", None, 1.0)
    third = next(i for t, i in _ids(services).items() if t.startswith("Where"))
    services.edits.update_details("T1", third, emotion="confused", emotion_by="U1")

    new = FakeReader(embedder, "head-2", "disappointed")
    loader = IndexLoader(services.sessions, Encoder(embedder, new), services.indexes)
    report = loader.load_indexes()
    assert report.reembedded == 1 and new.seen == ["I am not happy with your company."]
    after = stored(services)
    assert after["I am not happy with your company."] == ("disappointed", "head-2", 0.8)
    assert after["We export every Monday."] == ("frustrated", None, 1.0)
    assert after["Where is the settings page?"] == ("confused", None, 1.0)
    assert loader.load_indexes().reembedded == 0  # nothing left for this head

    unsure = FakeReader(embedder, "head-3", None)
    IndexLoader(services.sessions, Encoder(embedder, unsure), services.indexes).load_indexes()
    assert stored(services)["I am not happy with your company."] == (None, "head-3", None)
    again = IndexLoader(services.sessions, Encoder(embedder, unsure), services.indexes)
    assert again.load_indexes().reembedded == 0  # an unsure guess is not retried


def test_without_a_head_nothing_is_guessed_again(make_services, database_url: str) -> None:
    services = make_services(database_url)
    embedder = services.encoder.embedder
    services.encoder.emotions = FakeReader(embedder, "head-1", "confused")
    services.imports.import_quotes([(1, NewQuote(team_id="T1", text="How do I export?"))])
    plain = IndexLoader(services.sessions, Encoder(embedder), services.indexes)
    assert plain.load_indexes().reembedded == 0
    assert stored(services)["How do I export?"] == ("confused", "head-1", 0.8)


def _ids(services: Any) -> dict[str, int]:
    with services.sessions() as session:
        return {r.text: r.id for r in session.scalars(select(Quote))}
