"""The evidence trail in Block Kit: a thread's quotes (``@voicebot evidence``) and where one
quote was cited (its full view). Pure builders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.slack.views.blocks import (
    Blocks,
    attribution,
    context,
    counted,
    date_token,
    escape,
    excerpt,
    mrkdwn_section,
    quoted,
)
from store.queries.quotes import QuoteView
from store.queries.uses import Citation

MAX_LISTED = 40  # quotes in one evidence answer (Block Kit allows 50 blocks)


@dataclass(frozen=True)
class Cited:
    """A conversation a quote went into, as its reader may see it."""

    channel_id: str
    at: datetime
    thread_link: str | None = None


def thread_evidence(items: Sequence[tuple[QuoteView, Citation]], *,
                    mask: bool) -> tuple[str, Blocks]:
    """Every user quote brought into this thread, for a decision doc."""
    if not items:
        text = ("No user quotes have been brought into this thread yet. Mention me with a "
                "topic (`@voicebot export is slow`) or use `/voice` and *Share*.")
        return text, [mrkdwn_section(text)]
    people = {v.speaker_key or f"quote:{v.id}" for v, _ in items}
    shown = items[:MAX_LISTED]
    head = (f"*Evidence in this thread:* {counted(len(items), 'user quote', 'user quotes', '')} "
            f"from {counted(len(people), 'person', 'people', '')}")
    blocks: Blocks = [mrkdwn_section(head)]
    for n, (view, cited) in enumerate(shown, 1):
        body, _ = quoted(view.text, link=view.source_url, mask=mask, limit=600)
        blocks.append(mrkdwn_section(f"*{n}.* {body}"))
        by = f" by <@{cited.user_id}>" if cited.user_id else ""
        blocks.append(context(f"{attribution(view)} · brought in{by} {date_token(cited.at)}"))
    if len(items) > len(shown):
        blocks.append(context(f"…and {len(items) - len(shown)} more, not listed here."))
    lines = [f"{n}. \u201c{excerpt(v.text, 120)}\u201d" for n, (v, _) in enumerate(shown, 1)]
    return escape(head.replace("*", "") + "\n" + "\n".join(lines)), blocks


def cited_line(cited: Sequence[Cited]) -> str | None:
    """"Brought into 3 debates: <#C1> thread, Oct 12 · …", or None when never cited where
    the reader can see. Conversations the reader may not see are not mentioned at all, not
    even counted."""
    total = len(cited)
    if not total:
        return None
    parts = []
    for c in cited[:5]:
        where = f"<#{c.channel_id}>"
        where = f"<{c.thread_link}|thread in> {where}" if c.thread_link else where
        parts.append(f"{where}, {date_token(c.at)}")
    more = len(cited) - len(parts)
    tail = f" · and {more} more" if more > 0 else ""
    return (f":link: Brought into {total} debate{'s' * (total != 1)}: "
            + " · ".join(parts) + tail)
