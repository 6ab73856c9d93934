"""Customers' comments as quotes: each comment split into quote-sized passages of whole
sentences (:func:`bot.core.passages.split`, at most 600 characters, so Slack shows them
whole), every passage an exact substring ``comment.text[char_start:char_end]``. Comments and
passages of only "thanks", "ok" and the like are not quotes.

**Re-import key.** A passage is keyed by vendor, ticket (conversation) id, comment (part,
thread) id and its ordinal among the comment's passages; importing the same export again
finds every passage and adds nothing (:class:`bot.core.transcript_imports.TranscriptImporter`
stores them: new ones added, changed words replaced with the old kept as a revision).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from bot.core.desk.comments import DeskExport
from bot.core.passages import is_filler, split
from store.queries.quotes import NewQuote
from store.vocab import NEW_USER_TAG, SourceKind


@dataclass(frozen=True)
class DeskOptions:
    team_id: str
    segment: str | None = None
    company: str | None = None  # when the export names no organization
    ticket_url: str | None = None  # "https://.../conversation/{id}" when it carries no link
    captured_by: str = "import"


def passage_key(fmt: str, ticket_id: str, comment_id: str, ordinal: int) -> str:
    key = json.dumps([fmt, ticket_id, comment_id, ordinal], ensure_ascii=False)
    return "desk:" + hashlib.sha256(key.encode()).hexdigest()[:48]


def to_quotes(export: DeskExport, options: DeskOptions) -> list[NewQuote]:
    out: list[NewQuote] = []
    for c in export.comments:
        if is_filler(c.text):
            export.skipped["comments of only thanks, ok and the like"] += 1
            continue
        url = c.url or (options.ticket_url.replace("{id}", c.ticket_id)
                        if options.ticket_url else None)
        for ordinal, (start, end) in enumerate(split(c.text)):
            words = c.text[start:end]
            if is_filler(words):
                continue
            out.append(NewQuote(
                team_id=options.team_id, text=words, source_kind=SourceKind.SUPPORT_TICKET,
                speaker_name=c.speaker, company=c.company or options.company,
                segment=options.segment, source_url=url, said_at=c.said_at,
                tags=(NEW_USER_TAG,) if c.new_user else (), captured_by=options.captured_by,
                passage_key=passage_key(export.format, c.ticket_id, c.comment_id, ordinal),
                char_start=start, char_end=end, source_html=c.html))
    return out
