"""The wiring point: everything a process uses is built here, once, from settings.

:func:`build_services` connects the database, loads the model and fills the indexes, and
returns :class:`Services`, the use cases the Slack app, the CLI and the scheduler share.
The Bolt app itself is built from it by :func:`bot.slack.app.create_app`.

A new use case is a small class in ``bot/core/`` taking what it needs (sessions, encoder,
indexes, clock) in its constructor, its SQL in ``store/queries/``; add a field to
:class:`Services` and build it in :func:`build_services`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.core.capture import Capture
from bot.core.deletion import Deletion
from bot.core.digest import DigestService
from bot.core.edits import Edits
from bot.core.export import Exporter
from bot.core.import_log import ImportLog
from bot.core.imports import Importer
from bot.core.indexing import IndexLoader, IndexSync, LoadReport, StoredVectors
from bot.core.listening import Listening
from bot.core.lookup import Lookup
from bot.core.pending import PendingTexts
from bot.core.search import SearchService
from bot.core.suggest import Suggestions
from bot.core.transcript_imports import TranscriptImporter
from bot.core.usage import Usage
from bot.core.vectors import Encoder, NewVectors
from bot.core.workspaces import WorkspaceService
from bot.heap import trim_heap
from store import db
from store.clock import Clock, system_clock
from store.errors import StoreError
from store.retrieval import onnx_model
from store.retrieval.embeddings import Embedder, SentenceTransformerEmbedder, bundled_model_path
from store.retrieval.emotion import EmotionHead, load_reader
from store.retrieval.index import IndexRegistry
from store.retrieval.onnx_embedder import OnnxEmbedder

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything the listeners and the CLI use, built once per process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    embedder: Embedder
    encoder: Encoder  # the embedder with the emotion head, when one fits the model
    indexes: IndexRegistry
    capture: Capture  # save one quote
    imports: Importer  # import rows in batches; a corrected row updates its quote
    import_log: ImportLog  # the record of imports (`voicebot imports`) and their undo
    export: Exporter  # every quote with its attribution, as `voicebot import` reads it
    transcripts: TranscriptImporter  # import an interview transcript's passages
    edits: Edits  # message edited, review, details, conversation made private
    deletion: Deletion  # delete, deleted message, forget a person, purge a workspace
    lookup: Lookup  # get by id, literal text search, teams, counts
    usage: Usage  # record that quotes were shown or shared
    indexing: IndexLoader  # fill the indexes at start-up, re-embed
    sync: IndexSync  # follow other replicas' changes
    search: SearchService
    workspaces: WorkspaceService
    digests: DigestService
    pending: PendingTexts  # the message shortcut's text between form and submission
    suggestions: Suggestions  # offers of evidence to people who speak for users
    listening: Listening  # channels where external members' messages are kept
    clock: Clock = system_clock

    def close(self) -> None:
        self.search.close()
        self.engine.dispose()


def _read_stored_vectors(sessions: sessionmaker[Session]) -> StoredVectors:
    with sessions() as session:
        return StoredVectors.read(session)


def _emotion_layer() -> int | None:
    """The layer whose input the packaged emotion head reads (None: no usable head)."""
    try:
        return EmotionHead.load().layer
    except (OSError, ValueError):
        return None


def prepare_model(settings: Settings, *, force: bool = False,
                  say: Callable[[str], None] | None = None) -> onnx_model.Prepared:
    """Export the bundled model to ONNX into ``settings.model_cache`` (or find it there)."""
    return onnx_model.prepare(settings.model_cache, bundled_model_path(), _emotion_layer(),
                              force=force, say=say)


def make_embedder(settings: Settings) -> Embedder:
    """The bundled model through ONNX Runtime (exported into ``settings.model_cache`` on
    first use, in a child process: torch is never imported here); a custom model through
    sentence-transformers."""
    if settings.embedding_model is not None:
        return SentenceTransformerEmbedder(settings.embedding_model,
                                           threads=settings.torch_threads)
    return OnnxEmbedder(prepare_model(settings), bundled_model_path(),
                        threads=settings.torch_threads,
                        topic_precision=settings.topic_precision)


def build_services(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    migrate: bool = True,
    load_indexes: bool = True,
    progress: Callable[[int], None] | None = None,
    on_reembed_start: Callable[[int], None] | None = None,
    clock: Clock = system_clock,
) -> Services:
    """Connect to the database, migrate it, load the model and fill the indexes."""
    engine = db.make_engine(settings.database_url)
    db.check_connection(engine)
    if not migrate and not db.is_current(engine):
        raise StoreError("the database schema is not up to date; run `voicebot db upgrade`")
    sessions = db.make_session_factory(engine)
    stored = None
    if embedder is None:  # the model loads while migrations run and the stored vectors
        # are read (faster start: each takes well under a second at 100k quotes)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1, thread_name_prefix="voicebot-model") as pool:
            model = pool.submit(make_embedder, settings)
            if migrate:
                db.upgrade(settings.database_url)
            stored = _read_stored_vectors(sessions) if load_indexes else None
            embedder = model.result()
    elif migrate:
        db.upgrade(settings.database_url)
    indexes = IndexRegistry(embedder.dim, scan_threads=settings.scan_threads)
    encoder = Encoder(embedder, load_reader(embedder))
    new_vectors = NewVectors(sessions, indexes)
    capture = Capture(sessions, encoder, new_vectors, clock)
    edits = Edits(sessions, encoder, indexes, clock)
    deletion = Deletion(sessions, indexes, clock)
    lookup = Lookup(sessions)
    usage = Usage(sessions, clock)
    indexing = IndexLoader(sessions, encoder, indexes)
    sync = IndexSync(sessions, embedder, indexes)  # high-water marks taken before loading
    importer = Importer(sessions, encoder, new_vectors, indexes, clock)
    search = SearchService(sessions, embedder, indexes)
    services = Services(
        settings=settings, engine=engine, sessions=sessions, embedder=embedder,
        encoder=encoder, indexes=indexes, capture=capture,
        imports=importer, import_log=ImportLog(sessions, deletion, clock),
        export=Exporter(sessions),
        transcripts=TranscriptImporter(sessions, encoder, importer, indexes,
                                                         clock), edits=edits,
        deletion=deletion, lookup=lookup, usage=usage, indexing=indexing, sync=sync,
        search=search,
        workspaces=WorkspaceService(sessions, settings.capture_emoji),
        digests=DigestService(sessions, indexes), pending=PendingTexts(sessions, clock),
        suggestions=Suggestions(sessions, search, clock),
        listening=Listening(sessions, clock), clock=clock)
    if load_indexes:
        report: LoadReport = indexing.load_indexes(progress=progress,
                                                   on_reembed_start=on_reembed_start,
                                                   stored=stored)
        log.info("indexes ready", extra={"quotes": report.loaded, "teams": report.teams,
                                         "reembedded": report.reembedded})
        del stored
        trim_heap()  # the stored vectors' rows were read and freed: give the pages back
    return services
