"""Use cases for quotes: capture, import, edit, delete, reindex. Each owns its transaction.

The database is written first and committed; the in-memory index follows. Results are
frozen dataclasses from :mod:`store.queries.quotes`, never ORM objects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from store.clock import Clock, system_clock
from store.db import db_errors
from store.errors import InvalidQuote
from store.models import AuditEntry, Quote, QuoteUse
from store.policy import count_people, normalize_key, person_key
from store.queries import people
from store.queries import quotes as q
from store.retrieval.embeddings import Embedder, to_blob
from store.retrieval.index import IndexRegistry

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


@dataclass(frozen=True)
class SaveResult:
    quote: q.QuoteView
    created: bool


@dataclass(frozen=True)
class RowProblem:
    """An input row that was not imported, with where it was and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class ImportSummary:
    added: int = 0
    duplicates: int = 0
    rejected: tuple[RowProblem, ...] = ()


@dataclass(frozen=True)
class LoadReport:
    loaded: int
    reembedded: int
    teams: int


class EmotionEncoder(Protocol):
    """Vectors and emotions from one encoding pass (``store.retrieval.emotion.EmotionReader``)."""

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: Progress | None = None) -> tuple[np.ndarray, Sequence[Any]]: ...


def _emotion_fields(guess: Any) -> dict[str, Any]:
    """The stored columns for a guessed emotion (an ``EmotionGuess``)."""
    return {"emotion": guess.label, "emotion_confidence": round(float(guess.confidence), 4)}


class QuoteService:
    """Saving and changing quotes, keeping the per-team FAISS index in step."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        embedder: Embedder,
        indexes: IndexRegistry,
        emotions: EmotionEncoder | None = None,
        clock: Clock = system_clock,
    ) -> None:
        """``emotions`` encodes with the same model as ``embedder`` and reads each quote's
        emotion on the way; without it quotes are stored with no emotion. ``clock`` dates
        captures, uses and deletions."""
        self.clock = clock
        self.sessions = sessions
        self.embedder = embedder
        self.indexes = indexes
        self.emotions = emotions

    # -- start-up ---------------------------------------------------------------
    @db_errors
    def load_indexes(self, progress: Progress | None = None,
                     on_reembed_start: Callable[[int], None] | None = None,
                     stored: Iterable[tuple[str, int, bytes | None, str | None]] | None = None,
                     ) -> LoadReport:
        """Fill the indexes from stored vectors; re-embed those made by another model.

        ``stored`` is the database's (team, id, vector, model) rows when already read (start-up
        reads them while the model loads)."""
        by_team: dict[str, tuple[list[int], list[bytes]]] = {}
        stale: list[int] = []
        name, size = self.embedder.name, 4 * self.embedder.dim
        with self.sessions() as session:
            rows = stored if stored is not None else q.stored_vectors(session)
            for team_id, quote_id, blob, model in rows:
                if blob is None or model != name or len(blob) != size:
                    stale.append(quote_id)
                    continue
                ids, blobs = by_team.setdefault(team_id, ([], []))
                ids.append(quote_id)
                blobs.append(blob)
        for team_id, (ids, blobs) in by_team.items():  # one copy per team, no per-row arrays
            matrix = np.frombuffer(b"".join(blobs), dtype=np.float32)
            self.indexes.get(team_id).upsert(ids, matrix.reshape(len(ids), self.embedder.dim))
        if stale:
            log.info("re-embedding quotes made by another model", extra={"count": len(stale)})
            if on_reembed_start:
                on_reembed_start(len(stale))
            self.reembed(stale, progress=progress)
        loaded = sum(len(v[0]) for v in by_team.values())
        return LoadReport(loaded=loaded, reembedded=len(stale),
                          teams=len(set(by_team) | set(self.indexes.teams())))

    @db_errors
    def reembed(self, ids: Sequence[int] | None = None, *, batch_size: int = 256,
                progress: Progress | None = None) -> int:
        """Encode quotes again with the configured model (all when ``ids`` is None); quotes
        saved without an emotion (under a model the emotion head does not fit) get one."""
        if ids is None:
            with self.sessions() as session:
                ids = list(session.scalars(select(Quote.id).order_by(Quote.id)))
        done = 0
        for start in range(0, len(ids), batch_size):
            chunk = list(ids[start : start + batch_size])
            with self.sessions() as session:
                rows = session.execute(select(Quote.id, Quote.team_id, Quote.text, Quote.emotion)
                                       .where(Quote.id.in_(chunk))).all()
            vecs, guesses = self._encode([r.text for r in rows])
            with self.sessions.begin() as session:
                for n, (row, vec) in enumerate(zip(rows, vecs)):
                    values: dict[str, Any] = {"embedding": to_blob(vec),
                                              "embedding_model": self.embedder.name}
                    if guesses is not None and row.emotion is None:  # saved under another model
                        values.update(_emotion_fields(guesses[n]))
                    session.execute(update(Quote).where(Quote.id == row.id).values(**values))
            for row, vec in zip(rows, vecs):
                self.indexes.get(row.team_id).upsert([row.id], vec[None, :])
            done += len(rows)
            if progress:
                progress(len(rows))
        return done

    # -- capture ----------------------------------------------------------------
    @db_errors
    def save(self, new: q.NewQuote) -> SaveResult:
        """Store one quote; saving the same Slack message again returns the existing one."""
        new = new.validated()
        with self.sessions() as session:
            existing = self._existing(session, new)
            if existing is not None:
                return SaveResult(q.view(existing), created=False)
        vecs, guesses = self._encode([new.text])
        vec, new = vecs[0], self._with_emotion([new], guesses)[0]
        try:
            with self.sessions.begin() as session:
                quote = Quote(**q.to_row(new, embedding=to_blob(vec), model=self.embedder.name,
                                           now=self.clock()))
                session.add(quote)
                session.flush()
                saved = q.view(quote)
        except IntegrityError:
            with self.sessions() as session:  # lost a race with a retry or a second reactor
                existing = self._existing(session, new)
                if existing is None:
                    raise
                return SaveResult(q.view(existing), created=False)
        self.indexes.get(new.team_id).upsert([saved.id], vec[None, :])
        voices = self._link_voices(new.team_id, [saved.id], vec[None, :])
        if voices:
            saved = replace(saved, voice_id=voices[saved.id])
        log.info("quote saved", extra={"team": new.team_id, "quote_id": saved.id,
                                       "source": new.source_kind.value})
        return SaveResult(saved, created=True)

    def _link_voices(self, team_id: str, ids: Sequence[int],
                     vecs: np.ndarray) -> dict[int, int]:
        """Mark new quotes whose words were already captured as the same voice as the earlier
        capture, by the rule measured in bench/near_duplicates.py (``ranking.is_near_duplicate``:
        the same or contained normalized text, or cosine >= NEAR_DUPLICATE_THRESHOLD)."""
        from store.retrieval.ranking import Candidate, is_near_duplicate

        index = self.indexes.get(team_id)
        nearest = dict(zip(ids, index.search_many(vecs, 5)))
        wanted = set(ids) | {i for hits in nearest.values() for i, _ in hits}
        with self.sessions() as session:
            texts = dict(session.execute(select(Quote.id, Quote.text).where(
                Quote.id.in_(wanted))).all())
        new_vecs = dict(zip(ids, vecs))
        candidates: dict[int, Candidate] = {}  # one per quote: its text is normalized once

        def candidate(quote_id: int, vector: np.ndarray | None) -> Candidate:
            if quote_id not in candidates:
                candidates[quote_id] = Candidate(
                    id=quote_id, score=0.0, speaker_key=None, company_key=None,
                    text_key=texts.get(quote_id, ""), vector=vector)
            return candidates[quote_id]

        links: dict[int, int] = {}
        for quote_id, hits in nearest.items():
            earlier = [i for i, _ in hits if i < quote_id and i in texts]
            if not earlier:
                continue
            mine = candidate(quote_id, new_vecs[quote_id])
            others = index.vectors(earlier)
            same = [i for i, v in zip(earlier, others)
                    if is_near_duplicate(mine, candidate(i, v))]
            if same:
                links[quote_id] = min(same)
        if not links:
            return {}
        with self.sessions.begin() as session:
            roots = dict(session.execute(select(Quote.id, Quote.voice_id).where(
                Quote.id.in_(set(links.values())))).all())
            for quote_id, other in links.items():
                links[quote_id] = roots.get(other) or other
                session.execute(update(Quote).where(Quote.id == quote_id).values(
                    voice_id=links[quote_id]))
        return links

    @staticmethod
    def _existing(session: Session, new: q.NewQuote) -> Quote | None:
        if new.channel_id and new.message_ts:
            return q.by_message(session, new.team_id, new.channel_id, new.message_ts)
        return session.scalar(select(Quote).where(Quote.team_id == new.team_id,
                                                  Quote.dedupe_key == new.dedupe_key))

    def _encode(self, texts: Sequence[str]) -> tuple[np.ndarray, Sequence[Any] | None]:
        """Vectors, and emotion guesses when an emotion head is wired (same pass)."""
        if self.emotions is None:
            return self.embedder.encode(texts), None
        return self.emotions.encode(texts)

    @staticmethod
    def _with_emotion(items: Sequence[q.NewQuote],
                      guesses: Sequence[Any] | None) -> list[q.NewQuote]:
        """Fill the guessed emotion where the item does not already carry one."""
        if guesses is None:
            return list(items)
        return [it if it.emotion else replace(it, **_emotion_fields(g))
                for it, g in zip(items, guesses)]

    @db_errors
    def import_quotes(self, items: Iterable[tuple[int, q.NewQuote | RowProblem]], *,
                      batch_size: int = 512, progress: Progress | None = None) -> ImportSummary:
        """Import parsed rows in committed batches; a rerun skips what is already stored.

        ``items`` yields ``(line, NewQuote)`` or ``(line, RowProblem)``. Each batch is one
        transaction, so an interrupted import leaves whole batches and resumes cleanly.
        """
        added = duplicates = 0
        rejected: list[RowProblem] = []
        batch: list[tuple[int, q.NewQuote]] = []

        def flush() -> None:
            nonlocal added, duplicates
            if not batch:
                return
            a, d = self._import_batch(batch)
            added, duplicates = added + a, duplicates + d
            if progress:
                progress(len(batch))
            batch.clear()

        for line, item in items:
            if isinstance(item, RowProblem):
                rejected.append(item)
                if progress:
                    progress(1)
                continue
            try:
                batch.append((line, item.validated()))
            except InvalidQuote as exc:
                rejected.append(RowProblem(line, str(exc)))
                if progress:
                    progress(1)
                continue
            if len(batch) >= batch_size:
                flush()
        flush()
        return ImportSummary(added=added, duplicates=duplicates, rejected=tuple(rejected))

    def _import_batch(self, batch: list[tuple[int, q.NewQuote]]) -> tuple[int, int]:
        by_team: dict[str, list[q.NewQuote]] = {}
        for _, item in batch:
            by_team.setdefault(item.team_id, []).append(item)
        added = duplicates = 0
        for team_id, items in by_team.items():
            unique: dict[str, q.NewQuote] = {}
            for item in items:
                unique.setdefault(item.dedupe_key, item)
            duplicates += len(items) - len(unique)
            with self.sessions() as session:
                known = q.existing_keys(session, team_id, list(unique))
            fresh = [it for key, it in unique.items() if key not in known]
            duplicates += len(unique) - len(fresh)
            if not fresh:
                continue
            vecs, guesses = self._encode([it.text for it in fresh])
            fresh = self._with_emotion(fresh, guesses)
            now = self.clock()
            rows = [q.to_row(it, embedding=to_blob(v), model=self.embedder.name, now=now)
                    for it, v in zip(fresh, vecs)]
            with self.sessions.begin() as session:
                ids = list(session.scalars(
                    Quote.__table__.insert().returning(Quote.id, sort_by_parameter_order=True),
                    rows))
            self.indexes.get(team_id).upsert(ids, vecs)
            self._link_voices(team_id, ids, vecs)
            added += len(ids)
        return added, duplicates

    # -- changes from Slack or people -------------------------------------------
    @db_errors
    def edit_message(self, team_id: str, channel_id: str, ts: str,
                     new_text: str) -> q.QuoteView | None:
        """The Slack message behind a quote was edited.

        A whole-message quote takes the new words when they pass the capture checks
        (:func:`store.queries.quotes.text_problem`); its old words are kept as a revision. An
        excerpt stays as it is while its words are still in the message. Otherwise the saved words
        stay and the quote is flagged ``source_changed`` for its capturer to review.

        Returns the quote when this edit changed its words or newly flagged it (then
        ``source_changed`` is True), else None.
        """
        with self.sessions() as session:
            quote = q.by_message(session, team_id, channel_id, ts)
            if quote is None or (quote.is_excerpt and quote.text in new_text):
                return None
            follows = not quote.is_excerpt and q.text_problem(new_text) is None
            if follows and quote.text == new_text and not quote.source_changed:
                return None
        if not follows:
            with self.sessions.begin() as session:
                quote = q.by_message(session, team_id, channel_id, ts)
                if quote is None or not q.flag_source_changed(quote):
                    return None
                session.flush()
                flagged = q.view(quote, revisions=len(quote.revisions))
            log.info("quote kept; its message changed", extra={
                "team": team_id, "quote_id": flagged.id, "excerpt": flagged.is_excerpt})
            return flagged
        vecs, guesses = self._encode([new_text])
        vec = vecs[0]
        with self.sessions.begin() as session:
            quote = q.by_message(session, team_id, channel_id, ts)
            if quote is None or quote.is_excerpt:
                return None
            if not q.record_edit(session, quote, new_text, self.clock()):
                return None  # the same words again (a flag from an unusable edit is cleared)
            quote.embedding, quote.embedding_model = to_blob(vec), self.embedder.name
            if guesses and quote.emotion_by is None:  # a person's correction stands
                for column, value in _emotion_fields(guesses[0]).items():
                    setattr(quote, column, value)
            session.flush()
            result = q.view(quote, revisions=len(quote.revisions))
        self.indexes.get(team_id).upsert([result.id], vec[None, :])
        return result

    @db_errors
    def keep_as_saved(self, team_id: str, quote_id: int) -> q.QuoteView | None:
        """The capturer reviewed a quote whose message changed and keeps it: clear the flag."""
        with self.sessions.begin() as session:
            quote = q.get(session, team_id, quote_id)
            if quote is None:
                return None
            q.flag_source_changed(quote, False)
            session.flush()
            return q.view(quote, revisions=len(quote.revisions))

    @db_errors
    def delete_message(self, team_id: str, channel_id: str, ts: str) -> bool:
        """The Slack message was deleted (or replaced by Slack's placeholder): the quote goes
        too."""
        with self.sessions() as session:
            quote = q.by_message(session, team_id, channel_id, ts)
        return quote is not None and self.delete(team_id, quote.id,
                                                 by="slack:message_deleted")

    @db_errors
    def delete(self, team_id: str, quote_id: int, *, by: str) -> bool:
        """Remove a quote, its history and its vector; audit who did it (not the words)."""
        return self._delete_many(team_id, [quote_id], by=by, action="delete") == 1

    @db_errors
    def forget_speaker(self, team_id: str, speaker: str, *, by: str,
                       dry_run: bool = False) -> int:
        """Delete everything from one person (by name or Slack user id, wherever the quote
        names them: speaker, other attribution fields, tags), for a deletion request.
        Returns how many quotes were (or, with ``dry_run``, would be) removed."""
        ids = [m.id for m in self.find_person(team_id, speaker).matches]
        if dry_run or not ids:
            return len(ids)
        return self._delete_many(team_id, ids, by=by, action="forget")

    @db_errors
    def find_person(self, team_id: str, who: str) -> people.PersonReport:
        """What ``forget_speaker`` would delete, and how many other quotes mention ``who``
        inside their words (not deleted: a person reviews those)."""
        with self.sessions() as session:
            matches = people.find_person(session, team_id, who)
            matched = {m.id for m in matches}
            mentions = [i for i in people.text_contains(session, team_id, who)
                        if i not in matched]
        return people.PersonReport(tuple(matches), len(mentions))

    @db_errors
    def text_search(self, team_id: str, needle: str, *, limit: int) -> list[q.QuoteView]:
        """Quotes whose words contain ``needle`` literally (case-insensitive), newest first."""
        with self.sessions() as session:
            ids = people.text_contains(session, team_id, needle)[:limit]
            found = q.views(session, team_id, ids)
        return [found[i] for i in ids if i in found]

    def _delete_many(self, team_id: str, ids: Sequence[int], *, by: str, action: str) -> int:
        now = self.clock()
        with self.sessions.begin() as session:
            present = list(session.scalars(select(Quote.id).where(
                Quote.team_id == team_id, Quote.id.in_(ids))))
            q.delete_ids(session, team_id, present)
            q.relink_voices(session, team_id, present)
            session.add_all(AuditEntry(team_id=team_id, actor=by, action=action, quote_id=i,
                                       at=now) for i in present)
        self.indexes.get(team_id).remove(present)
        log.info("quotes deleted", extra={"team": team_id, "count": len(present), "by": by,
                                          "action": action})
        return len(present)

    @db_errors
    def purge_team(self, team_id: str, *, by: str) -> int:
        """Delete every quote of a workspace (on uninstall, when configured to)."""
        with self.sessions() as session:
            ids = list(session.scalars(select(Quote.id).where(Quote.team_id == team_id)))
        removed = self._delete_many(team_id, ids, by=by, action="purge") if ids else 0
        self.indexes.drop(team_id)
        return removed

    @db_errors
    def update_details(self, team_id: str, quote_id: int, **changes: object) -> q.QuoteView:
        """Change attribution fields (never the words) of a quote."""
        allowed = {"speaker_name", "company", "segment", "source_kind", "emotion", "first_hand",
                   "relayed_by", "tags", "shareable", "said_at", "emotion_by"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidQuote(f"cannot change {', '.join(sorted(unknown))} of a quote")
        with self.sessions.begin() as session:
            quote = q.get(session, team_id, quote_id)
            if quote is None:
                raise InvalidQuote(f"quote {quote_id} does not exist in this workspace")
            for key, value in changes.items():
                setattr(quote, key, value)
            if "emotion" in changes:
                quote.emotion_confidence = 1.0
            session.flush()
            return q.view(quote)

    @db_errors
    def mark_conversation_private(self, team_id: str, channel_id: str) -> int:
        """The conversation became private: its quotes stop being shown elsewhere."""
        with self.sessions.begin() as session:
            return q.mark_private(session, team_id, channel_id)

    @db_errors
    def get(self, team_id: str, quote_id: int) -> q.QuoteView | None:
        with self.sessions() as session:
            return q.views(session, team_id, [quote_id]).get(quote_id)

    @db_errors
    def record_use(self, team_id: str, quote_ids: Sequence[int], kind: str,
                   user_id: str | None, channel_id: str | None) -> None:
        """Remember that quotes were shown or shared (the digest reports it)."""
        if not quote_ids:
            return
        now = self.clock()
        with self.sessions.begin() as session:
            session.add_all(QuoteUse(team_id=team_id, quote_id=i, kind=kind, user_id=user_id,
                                     channel_id=channel_id, used_at=now)
                            for i in quote_ids)


@dataclass(frozen=True)
class Stats:
    quotes: int
    this_week: int
    people: int
    companies: int


def workspace_stats(sessions: sessionmaker[Session], team_id: str, now: datetime) -> Stats:
    """Counts for App Home: all quotes, the 7 days before ``now``, people and companies."""
    from datetime import timedelta

    from sqlalchemy import func

    week_ago = now - timedelta(days=7)
    with sessions() as session:
        total, recent = session.execute(
            select(func.count(), func.count().filter(Quote.captured_at >= week_ago))
            .where(Quote.team_id == team_id)).one()
        speakers = session.execute(select(Quote.speaker_user_id, Quote.speaker_name)
                                   .where(Quote.team_id == team_id).distinct()).all()
        companies = session.scalars(select(Quote.company).where(
            Quote.team_id == team_id, Quote.company.is_not(None)).distinct()).all()
    people = count_people(person_key(u, n) for u, n in speakers)
    return Stats(int(total), int(recent), people,
                 len({normalize_key(c) for c in companies if c.strip()}))
