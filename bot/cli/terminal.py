"""Plain-text rendering of search results for the command line (as Slack would show them).

Every string the bot did not write (quote text, names, companies, links, the topic) goes
through :func:`safe` first: a quote must not be able to move the cursor, retitle the
window or hide a line by carrying terminal control sequences.
"""

from __future__ import annotations

import re
import textwrap

from bot.core.search import SearchResult
from bot.slack.views.blocks import LESS_RELATED, NOT_COUNTED, describe_breadth
from store.queries.quotes import QuoteView

#: C0 controls except tab and newline, DEL, C1 controls (ESC/CSI/OSC start with these), and
#: the Unicode bidirectional overrides that reorder what a terminal shows.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                       "\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe(value: str) -> str:
    """``value`` with control characters shown as escapes (``\\x1b``), not executed."""
    return _CONTROLS.sub(_visible, value)


def attribution(quote: QuoteView) -> str:
    """``Dana Lee, Acme (enterprise) · interview · 2026-03-02 · frustrated (0.91)``, or
    ``Dana Lee (enterprise)`` without a company; relayed quotes say so; a quote whose saying
    date is unknown shows when it was captured, labelled so. Neutral is not shown, as in
    Slack."""
    who = (quote.speaker_name or "").strip().rstrip(",").strip() or "Unknown speaker"
    company = (quote.company or "").strip().strip(",").strip()
    segment = f"({quote.segment.strip()})" if quote.segment and quote.segment.strip() else ""
    speaker = f"{who}, {company}" if company else who
    when = (f"{quote.said_at:%Y-%m-%d}" if quote.said_at
            else f"captured {quote.captured_at:%Y-%m-%d}")
    parts = [f"{speaker} {segment}" if segment else speaker,
             quote.source_kind.replace("_", " "), when]
    if quote.emotion and quote.emotion != "neutral":
        sure = f" ({quote.emotion_confidence:.2f})" if quote.emotion_confidence is not None \
            else ""
        parts.append(f"{quote.emotion}{sure}")
    if not quote.first_hand:
        parts.append(f"relayed by {quote.relayed_by or 'a teammate'}")
    return safe(" · ".join(parts))


def breadth_line(result: SearchResult) -> str:
    return describe_breadth(result.breadth, date=lambda d: f"{d:%Y-%m-%d}", bold="")


def render(result: SearchResult, *, width: int = 88, title: str | None = None,
           scores: bool = True) -> str:
    """Search results as text. ``title`` replaces the topic heading (text search), and
    ``scores=False`` leaves out the similarity scores a literal match does not have."""
    heading = title or f'What users said about "{result.query.topic or "(recent)"}"'
    filters = result.query.describe_filters()
    lines = [safe(heading), breadth_line(result) if result.hits else
             "No quotes found" + (" with these filters." if filters else ".")]
    if filters:
        lines.append(safe("Filters: " + "; ".join(filters)))
    lines.append("")
    if not result.hits and result.query.topic and result.unfiltered:
        lines.append(safe("  " + result.query.filtered_out(result.unfiltered)))
    for n, hit, less_related, alone in result.placed():
        if less_related:
            lines.append(LESS_RELATED)
            lines.append("")
        body = textwrap.fill(safe(hit.quote.text), width=width - 6,
                             initial_indent=f"{n:>2}. \u201c", subsequent_indent="     ",
                             replace_whitespace=False)
        lines.append(body + "\u201d")
        score = f"   [score {hit.score:.2f}]" if scores else ""
        note = NOT_COUNTED if alone else ""
        lines.append(f"     \u2014 {attribution(hit.quote)}{note}{score}")
        if hit.quote.source_url:
            lines.append(f"     {safe(hit.quote.source_url)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
