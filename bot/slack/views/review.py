"""The note a capturer gets when the Slack message behind their quote changed and the quote
kept the words they saved (pure: data in, Block Kit out)."""

from __future__ import annotations

from bot.slack.payloads import QuoteButton
from bot.slack.views.blocks import (
    Blocks,
    attribution,
    button,
    context,
    escape,
    mask_personal,
    mrkdwn_section,
    quoted,
)
from store.queries.quotes import QuoteView

KEEP_ACTION = "quote_keep"


def source_changed_notice(quote: QuoteView, *, mask: bool) -> tuple[str, Blocks]:
    if quote.is_excerpt:
        why = ("was edited, and the excerpt you saved is no longer in it word for word. "
               "I kept the excerpt as you saved it.")
    else:
        why = ("was edited into something I can't keep as a quote (empty, too long, or with "
               "characters that can't be stored). I kept the words as you saved them.")
    where = f"<{quote.source_url}|The original message>" if quote.source_url else \
        "The original message"
    body, _ = quoted(quote.text, limit=500, link=quote.source_url, mask=mask)
    blocks: Blocks = [
        mrkdwn_section(f"*A quote you saved needs a look.* {where} {why}"),
        mrkdwn_section(body),
        context(attribution(quote)),
        {"type": "actions", "block_id": f"review_{quote.id}", "elements": [
            button("Keep as saved", KEEP_ACTION, QuoteButton(quote.id).encode(), style="primary"),
            button("Delete", "quote_delete", QuoteButton(quote.id).encode(), style="danger")]},
    ]
    shown = mask_personal(quote.text) if mask else quote.text
    if len(shown) > 100:
        shown = shown[:100].rstrip() + "\u2026"  # visibly shortened; the blocks hold the rest
    return f"The original message of a quote you saved changed: {escape(shown)}", blocks
