"""Plain-text rendering of search results for the command line (as Slack would show them)."""

from __future__ import annotations

import textwrap

from bot.blocks import describe_breadth
from bot.recall import SearchResult
from store.quotes import QuoteView


def attribution(quote: QuoteView) -> str:
    """``Dana Lee, Acme (enterprise) · interview · 2026-03-02 · frustrated (0.91)``; relayed
    quotes say so. Neutral is not shown, as in Slack."""
    who = quote.speaker_name or "Unknown speaker"
    org = ", ".join(x for x in (quote.company, f"({quote.segment})" if quote.segment else None)
                    if x)
    parts = [f"{who}, {org}" if org else who, quote.source_kind.replace("_", " "),
             f"{quote.when:%Y-%m-%d}"]
    if quote.emotion and quote.emotion != "neutral":
        sure = f" ({quote.emotion_confidence:.2f})" if quote.emotion_confidence is not None \
            else ""
        parts.append(f"{quote.emotion}{sure}")
    if not quote.first_hand:
        parts.append(f"relayed by {quote.relayed_by or 'a teammate'}")
    return " · ".join(parts)


def breadth_line(result: SearchResult) -> str:
    return describe_breadth(result.breadth, date=lambda d: f"{d:%Y-%m-%d}", bold="")


def render(result: SearchResult, *, width: int = 88) -> str:
    lines = [f'What users said about "{result.query.topic or "(recent)"}"',
             breadth_line(result)]
    filters = result.query.describe_filters()
    if filters:
        lines.append("Filters: " + "; ".join(filters))
    lines.append("")
    if not result.hits:
        lines.append("  (no quotes found)")
    for n, hit in enumerate(result.hits, start=result.offset + 1):
        body = textwrap.fill(hit.quote.text, width=width - 6, initial_indent=f"{n:>2}. \u201c",
                             subsequent_indent="     ", replace_whitespace=False)
        lines.append(body + "\u201d")
        lines.append(f"     \u2014 {attribution(hit.quote)}   [score {hit.score:.2f}]")
        if hit.quote.source_url:
            lines.append(f"     {hit.quote.source_url}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
