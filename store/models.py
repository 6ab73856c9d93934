"""SQLAlchemy models: the database is the source of truth, FAISS is a cache of it.

Every row is scoped by the Slack workspace (``team_id``). A quote's ``text`` is the
speaker's exact words and is never rewritten by the application; an edit of the Slack
message it came from keeps the earlier words in ``quote_revisions``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from store.vocab import SourceKind

__all__ = ["Base", "Quote", "QuoteRevision", "Workspace", "QuoteUse", "DigestClaim",
           "AuditEntry", "RequestReceipt", "PendingCapture", "ImportRecord", "ImportUpdate",
           "ListeningChannel", "SourceKind", "utcnow", "MAX_QUOTE_CHARS"]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Slack's limit for a message's text; a longer "quote" is not a message someone said.
MAX_QUOTE_CHARS = 40_000


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Quote(Base):
    """One thing a user said, verbatim, with who said it, where and when."""

    __tablename__ = "quotes"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "message_ts"),
        UniqueConstraint("team_id", "dedupe_key"),
        Index("ix_quotes_team_id_updated_at", "team_id", "updated_at"),
        # policy.hidden_clause: the private quotes a channel may not see, without a scan
        Index("ix_quotes_team_id_private", "team_id", "is_private", "shareable", "channel_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    text: Mapped[str] = mapped_column(Text)
    speaker_name: Mapped[str | None] = mapped_column(String(255))
    speaker_user_id: Mapped[str | None] = mapped_column(String(32))
    speaker_team_id: Mapped[str | None] = mapped_column(String(32))
    company: Mapped[str | None] = mapped_column(String(255))
    segment: Mapped[str | None] = mapped_column(String(255))
    source_kind: Mapped[str] = mapped_column(String(32), default=SourceKind.OTHER.value)
    source_url: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    shareable: Mapped[bool] = mapped_column(Boolean, default=False)
    first_hand: Mapped[bool] = mapped_column(Boolean, default=True)
    relayed_by: Mapped[str | None] = mapped_column(String(255))
    captured_by: Mapped[str | None] = mapped_column(String(64))
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    said_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    emotion: Mapped[str | None] = mapped_column(String(16))
    emotion_confidence: Mapped[float | None] = mapped_column(Float)
    emotion_by: Mapped[str | None] = mapped_column(String(64))
    #: The emotion head that guessed ``emotion`` (its version; None when a person chose
    #: it): a different head guesses again (bot/core/indexing.py).
    emotion_model: Mapped[str | None] = mapped_column(String(32))
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    embedding_model: Mapped[str | None] = mapped_column(String(255))
    dedupe_key: Mapped[str] = mapped_column(String(128))
    #: The first quote with (nearly) the same words: the same voice captured again
    #: elsewhere. None for the first capture itself.
    voice_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: The capturer kept only part of the Slack message (the shortcut's excerpt field).
    is_excerpt: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: The Slack message was edited and no longer contains these words; the quote keeps
    #: them and its capturer is asked to review it.
    source_changed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    #: Imported from an interview transcript: which transcript (a hash of its recording
    #: URL, or of its file name and date), where the passage starts in the recording, and
    #: its character offsets in the speaker's spoken text (see bot/core/transcripts.py).
    transcript_key: Mapped[str | None] = mapped_column(String(64), index=True)
    start_seconds: Mapped[float | None] = mapped_column(Float)
    char_start: Mapped[int | None] = mapped_column(Integer)
    char_end: Mapped[int | None] = mapped_column(Integer)
    #: Imported from a support-desk comment written in HTML: the comment's original HTML,
    #: kept for audit (``text`` is a passage of the text converted from it, at
    #: ``char_start:char_end``; see bot/core/desk/).
    source_html: Mapped[str | None] = mapped_column(Text)
    #: The import that added this quote (``voicebot imports undo`` removes it); None for
    #: quotes captured in Slack or imported before imports were recorded.
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("imports.id", ondelete="SET NULL"), index=True)

    revisions: Mapped[list[QuoteRevision]] = relationship(
        back_populates="quote", cascade="all, delete-orphan", passive_deletes=True
    )


class QuoteRevision(Base):
    """Earlier words of a quote whose Slack message was edited, or whose transcript was
    corrected and imported again."""

    __tablename__ = "quote_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    quote: Mapped[Quote] = relationship(back_populates="revisions")


class Workspace(Base):
    """A Slack workspace voicebot knows, with the settings its people edit from Slack."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    capture_emoji: Mapped[str | None] = mapped_column(String(100))
    digest_channel: Mapped[str | None] = mapped_column(String(32))
    digest_weekday: Mapped[int] = mapped_column(Integer, default=0)
    digest_time: Mapped[str] = mapped_column(String(5), default="09:00")
    digest_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    digest_problem: Mapped[str | None] = mapped_column(Text)
    #: Who may change these settings: ``admins`` (workspace admins and owners, the
    #: default), ``owners``, or ``everyone``. Only an admin/owner changes this.
    settings_role: Mapped[str] = mapped_column(String(16), default="admins",
                                               server_default="admins")
    #: In a channel shared with another organisation, allow sharing quotes whose speaker
    #: belongs to that organisation (off: nothing is posted publicly there).
    connect_share_own: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: Evidence whose newest quote is older than this many months is called old.
    stale_months: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QuoteUse(Base):
    """A quote brought into a conversation: shown by /voice or shared in a channel."""

    __tablename__ = "quote_uses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    # The thread it went into (None: the channel itself, or a /voice answer only its asker saw).
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_quote_uses_thread", "team_id", "channel_id", "thread_ts"),)


class TopicAsk(Base):
    """A topic someone looked up, and how recent its newest matching quote was then (the
    digest lists topics argued on old evidence). ``public``: asked where the whole workspace
    could see it; only those, and the digest channel's own, are ever listed."""

    __tablename__ = "topic_asks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    public: Mapped[bool] = mapped_column(Boolean)
    topic: Mapped[str] = mapped_column(String(200))
    matches: Mapped[int] = mapped_column(Integer)
    newest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_topic_asks_team_id_asked_at", "team_id", "asked_at"),)


class SuggestChannel(Base):
    """A channel where claims about users are offered their words (off unless turned on)."""

    __tablename__ = "suggest_channels"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    changed_by: Mapped[str | None] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EvidenceOffer(Base):
    """An offer of users' words made to someone who spoke for users. The unique thread is
    what makes it one offer per thread across replicas; ``outcome`` is what they did with it
    (``shown``, ``shared``, ``not_helpful``)."""

    __tablename__ = "evidence_offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(200))
    matches: Mapped[int] = mapped_column(Integer)
    people: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(16))
    offered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "thread_ts", name="uq_offer_per_thread"),
        Index("ix_evidence_offers_channel_day", "team_id", "channel_id", "offered_at"),
    )


class DigestClaim(Base):
    """One weekly digest for one (team, channel, period), claimed before it is posted.

    The unique constraint is what makes posting happen once across processes and restarts:
    whoever inserts the row posts; a claim left behind by a crashed process is taken over
    after its lease expires.
    """

    __tablename__ = "digest_claims"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", "period_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """Who removed what and when. Never holds the removed words or the speaker's name."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_team_id_id", "team_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    quote_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RequestReceipt(Base):
    """A Slack request already handled (an event id, or an action's trigger), kept until
    it expires so a retry or a replay is not executed twice, whichever replica gets it."""

    __tablename__ = "request_receipts"
    __table_args__ = (Index("ix_request_receipts_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PendingCapture(Base):
    """A message shortcut's message text, held between opening the form and submitting it
    (too long for a modal's private_metadata), readable by every replica until it expires."""

    __tablename__ = "pending_captures"
    __table_args__ = (Index("ix_pending_captures_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeferredCapture(Base):
    """A capture reaction that came while every capture worker was busy: kept here, not in
    memory, until a worker (on any replica) has room, so that a flood neither grows the
    server nor loses a capture (bot/core/capture_backlog.py)."""

    __tablename__ = "deferred_captures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ImportRecord(Base):
    """One run of an import (a CSV/JSONL file, a transcript, a support-desk export): who ran
    it, when, and what it did; ``voicebot imports`` lists them and can undo one."""

    __tablename__ = "imports"
    __table_args__ = (Index("ix_imports_team_id_id", "team_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    run_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: None until the run finishes (an interrupted import keeps its whole batches)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(64))


class ImportUpdate(Base):
    """A stored quote an import changed instead of adding it again: its attribution before,
    and the re-import key it was given, so undoing the import can put it back."""

    __tablename__ = "import_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"),
                                           index=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"),
                                          index=True)
    previous: Mapped[dict[str, object]] = mapped_column(JSON)
    key_after: Mapped[str] = mapped_column(String(128))


class ListeningChannel(Base):
    """A channel where an admin turned listening on: external organisations' members'
    messages are kept as quotes while ``enabled``. ``announced_at`` is set once, when the bot
    told the channel (it is not told again when listening is turned back on)."""

    __tablename__ = "listening_channels"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
