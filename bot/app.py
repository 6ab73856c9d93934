"""The wiring point: build services from settings, and the Bolt app from services."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.recall import SearchService
from bot.services import LoadReport, QuoteService
from store import db
from store.embeddings import Embedder, SentenceTransformerEmbedder
from store.errors import StoreError
from store.index import IndexRegistry

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything the listeners and the CLI use, built once per process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    embedder: Embedder
    indexes: IndexRegistry
    quotes: QuoteService
    search: SearchService

    def close(self) -> None:
        self.engine.dispose()


def load_emotion_classifier(dim: int) -> object | None:
    """The packaged emotion head, if it fits the model's vectors."""
    try:
        from store.emotion import EmotionClassifier
    except ImportError:  # pragma: no cover - shipped with the package
        return None
    classifier = EmotionClassifier.load()
    return classifier if classifier.dim == dim else None


def build_services(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    migrate: bool = True,
    load_indexes: bool = True,
    progress: Callable[[int], None] | None = None,
    on_reembed_start: Callable[[int], None] | None = None,
) -> Services:
    """Connect to the database, migrate it, load the model and fill the indexes."""
    engine = db.make_engine(settings.database_url)
    db.check_connection(engine)
    if migrate:
        db.upgrade(settings.database_url)
    elif not db.is_current(engine):
        raise StoreError("the database schema is not up to date; run `voicebot db upgrade`")
    sessions = db.make_session_factory(engine)
    embedder = embedder or SentenceTransformerEmbedder(settings.embedding_model)
    indexes = IndexRegistry(embedder.dim)
    quotes = QuoteService(sessions, embedder, indexes, load_emotion_classifier(embedder.dim))
    services = Services(settings=settings, engine=engine, sessions=sessions, embedder=embedder,
                        indexes=indexes, quotes=quotes,
                        search=SearchService(sessions, embedder, indexes))
    if load_indexes:
        report: LoadReport = quotes.load_indexes(progress=progress,
                                                 on_reembed_start=on_reembed_start)
        log.info("indexes ready", extra={"quotes": report.loaded, "teams": report.teams,
                                         "reembedded": report.reembedded})
    return services
