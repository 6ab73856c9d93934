"""Importing an interview transcript: who the users are, their passages as quotes, and a
re-import that adds nothing new and updates only the passages whose words changed.

**Re-import key.** A transcript is identified by its recording URL when one is given, else by
its file name (and recording time when known); a passage by that transcript, its speaker,
the start time (ms) of the cue it begins in and its ordinal among the speaker's passages
beginning in that cue (for formats without times: among all the speaker's passages). The
key is the quote's ``dedupe_key``: importing again finds each passage; changed words replace
the stored ones and the old words are kept as a revision (as for an edited Slack message).
Passages missing from a corrected transcript are kept (nothing stored is lost).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urldefrag

from sqlalchemy.orm import Session, sessionmaker

from bot.core.imports import Importer
from bot.core.passages import Passage, passages
from bot.core.transcripts import Transcript
from bot.core.vectors import Encoder, emotion_fields
from store.clock import Clock, system_clock
from store.db import db_errors
from store.queries import edits
from store.queries.quotes import NewQuote
from store.retrieval.embeddings import to_blob
from store.retrieval.index import IndexRegistry
from store.vocab import SourceKind


class SpeakerChoiceError(ValueError):
    """Who the users are is not clear; the message lists the speakers and the flags."""


def choose_users(transcript: Transcript, *, interviewers: Sequence[str] = (),
                 speakers: Sequence[str] = ()) -> set[str]:
    """The speakers whose turns become quotes: ``speakers`` when given, else everyone but
    ``interviewers``; the only speaker when neither is given. Names match case-insensitively."""
    counts = transcript.speakers()
    listing = "\n".join(f"  {name}: {words} words" for name, words in counts.items())
    if not counts:
        raise SpeakerChoiceError("this transcript names no speakers, so the users' words "
                                 "cannot be told from the interviewers'. Nothing was imported.")
    by_key = {name.casefold(): name for name in counts}
    unknown = [n for n in [*interviewers, *speakers] if n.casefold() not in by_key]
    if unknown:
        raise SpeakerChoiceError(
            f"no speaker named {', '.join(repr(n) for n in unknown)} in this transcript. "
            f"The speakers are:\n{listing}")
    chosen = {by_key[n.casefold()] for n in speakers}
    team = {by_key[n.casefold()] for n in interviewers}
    if chosen & team:
        raise SpeakerChoiceError(f"{', '.join(sorted(chosen & team))} given both as "
                                 "--speaker and --interviewer")
    if chosen:
        return chosen
    if team:
        users = set(counts) - team
        if not users:
            raise SpeakerChoiceError("every speaker is an interviewer; nothing to import")
        return users
    if len(counts) == 1:
        return set(counts)
    raise SpeakerChoiceError(
        f"this transcript has {len(counts)} speakers:\n{listing}\nSay who the users are with "
        "--speaker NAME, or who is on the team with --interviewer NAME (both repeatable). "
        "Nothing was imported.")


@dataclass(frozen=True)
class TranscriptOptions:
    team_id: str
    company: str | None = None
    segment: str | None = None
    said_at: datetime | None = None
    recording_url: str | None = None
    captured_by: str = "import"


def transcript_key(path: str | Path, transcript: Transcript, recording_url: str | None) -> str:
    identity = ([recording_url] if recording_url else
                [Path(path).name, transcript.recorded_at.isoformat()
                 if transcript.recorded_at else None])
    return hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:32]


def link(recording_url: str | None, start: float | None) -> str | None:
    """``URL#t=<seconds>`` (the W3C media fragment), or the URL when the time is unknown."""
    if not recording_url or start is None:
        return recording_url
    return f"{urldefrag(recording_url).url}#t={int(start)}"


def to_quotes(path: str | Path, transcript: Transcript, users: set[str],
              options: TranscriptOptions) -> list[NewQuote]:
    tkey = transcript_key(path, transcript, options.recording_url)
    said_at = options.said_at or transcript.recorded_at
    seen: dict[tuple[str, int | None], int] = {}
    out = []
    for p in passages(transcript, users):
        start_ms = None if p.start is None else round(p.start * 1000)
        ordinal = seen.get((p.speaker, start_ms), 0)
        seen[(p.speaker, start_ms)] = ordinal + 1
        key = json.dumps([tkey, p.speaker, start_ms, ordinal], ensure_ascii=False)
        out.append(NewQuote(
            team_id=options.team_id, text=p.text, source_kind=SourceKind.INTERVIEW,
            speaker_name=p.speaker, company=options.company, segment=options.segment,
            source_url=link(options.recording_url, p.start), said_at=said_at,
            captured_by=options.captured_by,
            passage_key="transcript:" + hashlib.sha256(key.encode()).hexdigest()[:48],
            transcript_key=tkey, start_seconds=p.start, char_start=p.char_start,
            char_end=p.char_end))
    return out


@dataclass(frozen=True)
class TranscriptSummary:
    added: int = 0
    unchanged: int = 0
    updated: int = 0


class TranscriptImporter:
    def __init__(self, sessions: sessionmaker[Session], encoder: Encoder, importer: Importer,
                 indexes: IndexRegistry, clock: Clock = system_clock) -> None:
        self.sessions = sessions
        self.encoder = encoder
        self.importer = importer
        self.indexes = indexes
        self.clock = clock

    @db_errors
    def import_quotes(self, quotes: list[NewQuote]) -> TranscriptSummary:
        """Add the new passages, update those whose words changed, leave the rest."""
        if not quotes:
            return TranscriptSummary()
        team_id = quotes[0].team_id
        with self.sessions() as session:
            stored = edits.stored_passages(session, team_id, [q.dedupe_key for q in quotes])
        fresh = [q for q in quotes if q.dedupe_key not in stored]
        changed = [q for q in quotes if q.dedupe_key in stored
                   and stored[q.dedupe_key][1] != q.text]
        added = self.importer.import_quotes([(0, q) for q in fresh]).added if fresh else 0
        updated = 0
        if changed:
            vecs, guesses = self.encoder.encode([q.text for q in changed])
            for i, q in enumerate(changed):
                with self.sessions.begin() as session:
                    result = edits.replace_passage(
                        session, team_id, q.dedupe_key, q.text, now=self.clock(),
                        embedding=to_blob(vecs[i]), model=self.encoder.model,
                        emotion=emotion_fields(guesses[i]) if guesses else None,
                        position={"start_seconds": q.start_seconds, "char_start": q.char_start,
                                  "char_end": q.char_end, "source_url": q.source_url,
                                  "source_html": q.source_html})
                if result is not None:
                    self.indexes.get(team_id).upsert([result.id], vecs[i][None, :])
                    updated += 1
        for q in quotes:  # same words, moved in the spoken text by a correction before them
            quote_id, text, position = stored.get(q.dedupe_key, (0, "", (None, None)))
            if text == q.text and position != (q.char_start, q.char_end):
                with self.sessions.begin() as session:
                    edits.set_details(session, team_id, quote_id, {
                        "char_start": q.char_start, "char_end": q.char_end})
        return TranscriptSummary(added=added, unchanged=len(quotes) - len(fresh) - updated,
                                 updated=updated)


__all__ = ["Passage", "SpeakerChoiceError", "TranscriptImporter", "TranscriptOptions",
           "TranscriptSummary", "choose_users", "to_quotes", "link"]
