"""Pure Block Kit builders: data in, ``(fallback_text, blocks)`` or view dicts out.

Nothing here touches the network, the database or Bolt. A quote's words are shown exactly
as stored (only escaped for mrkdwn); a display that must shorten one says so and links to
the whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.search import Breadth, QuoteHit, SearchResult
from bot.slack.payloads import MorePage, QuoteButton
from store.queries.quotes import QuoteView
from store.vocab import SourceKind

MAX_SHOWN_CHARS = 700
SECTION_LIMIT = 3000
SOURCES = tuple((kind.value, kind.label) for kind in SourceKind)  # (value, label)
EMOTION_EMOJI = {"frustrated": ":rage:", "confused": ":thinking_face:",
                 "delighted": ":heart_eyes:", "disappointed": ":disappointed:",
                 "neutral": ":neutral_face:"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<!\w)\+?\d[\d ()./-]{7,}\d(?!\w)")

Blocks = list[dict]


def _link(url: str | None, label: str) -> str | None:
    return link(url, label)


def escape(text: str) -> str:
    """Slack's escaping of ``&``, ``<`` and ``>``: text the bot did not write can then form
    no mention, broadcast (``<!channel>``) or link, in blocks and in fallback ``text``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


SAFE_URL = re.compile(r"^https?://[^\s<>|]+$", re.IGNORECASE)


def link(url: str | None, label: str) -> str | None:
    """``<url|label>`` for an http(s) URL that cannot break out of Slack's link syntax;
    None for anything else (the link is left out rather than shown raw)."""
    if not url or not SAFE_URL.match(url):
        return None
    return f"<{url}|{escape(label)}>"


def excerpt(text: str, limit: int) -> str:
    """Escaped start of ``text`` for a fallback (notification) line; a cut is marked."""
    one_line = " ".join(text.split())
    if len(one_line) <= limit:
        return escape(one_line)
    return escape(one_line[:limit].rstrip()) + "\u2026 (shortened)"


def mask_personal(text: str) -> str:
    """Hide email addresses and phone numbers in a displayed quote (storage keeps them)."""
    return PHONE.sub("[phone hidden]", EMAIL.sub("[email hidden]", text))


def plain(text: str, limit: int = 75) -> dict:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def mrkdwn_section(text: str, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}
    if block_id:
        block["block_id"] = block_id
    return block


def context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    b = {"type": "button", "text": plain(text), "action_id": action_id, "value": value[:2000]}
    if style:
        b["style"] = style
    return b


def quoted(text: str, *, limit: int = MAX_SHOWN_CHARS, link: str | None = None,  # noqa: F811
           mask: bool = False) -> tuple[str, bool]:
    """Blockquote mrkdwn of a quote's words; shortened at a word boundary with a visible note."""
    shown = mask_personal(text) if mask else text
    shortened = len(shown) > limit
    if shortened:
        cut = shown[:limit]
        space = cut.rfind(" ")
        shown = (cut[:space] if space > limit * 0.6 else cut).rstrip() + "\u2026"
    body = "\n".join("> " + line if line else ">" for line in escape(shown).split("\n"))
    if shortened:
        where = _link(link, "read the whole quote") or "use *Show full quote*"
        body += f"\n_(shortened: {len(text):,} characters in full, {where})_"
    return body, shortened


def attribution(quote: QuoteView) -> str:
    who = escape(quote.speaker_name) if quote.speaker_name else (
        f"<@{quote.speaker_user_id}>" if quote.speaker_user_id else "Unknown speaker")
    org = ", ".join(escape(x) for x in (quote.company, quote.segment) if x)
    parts = [f"*{who}*" + (f" ({org})" if org else "")]
    parts.append(dict(SOURCES).get(quote.source_kind, quote.source_kind))
    parts.append(date_token(quote.said_at) if quote.said_at
                 else "captured " + date_token(quote.captured_at))
    if quote.emotion and quote.emotion != "neutral":
        parts.append(f"{EMOTION_EMOJI.get(quote.emotion, '')} {quote.emotion}")
    if not quote.first_hand:
        parts.append(f":speech_balloon: relayed by {escape(quote.relayed_by or 'a teammate')}"
                     " (not the user's own words)")
    if (original := link(quote.source_url, "original")) is not None:
        parts.append(original)
    return " · ".join(parts)


def also_note(also: int) -> str:
    return f" · also captured {also} more time{'s' * (also != 1)}" if also else ""


def date_token(when: datetime) -> str:
    ts = int(when.timestamp())
    return f"<!date^{ts}^{{date_short}}|{when:%Y-%m-%d}>"


@dataclass(frozen=True)
class Target:
    """Where shared quotes go: the channel, and the thread when answering in one."""

    channel_id: str
    thread_ts: str | None = None


def describe_breadth(b: Breadth, *, date: Callable[[datetime], str] = date_token,
                     bold: str = "*") -> str:
    """"12 matching quotes from 7 people at 4 companies, <dates>" (parts that are unknown
    are left out rather than shown as zero).

    Words that add up: a quote captured for several speakers (linked re-captures) counts once
    as a quote but each speaker counts as a person, so when there are more people than quotes
    the people lead: "33 people at 4 companies, in 32 distinct quotes". When some quotes
    name no company, the companies are the ones named: "12 matching quotes from 9 people (1
    company named)", not "at 1 company". An estimated count
    (``b.approximate``) reads "about 10 matching quotes from about 9 people" ("about" only
    before counts of 3 or more: "about 5 matching quotes from 1 person").
    """
    if not b.matches:
        return "No stored quote matches closely; these are the nearest."
    def about(count: int) -> str:  # an estimate says so, except where "about" means nothing
        return "about " if b.approximate and count >= 3 else ""

    quotes = counted(b.matches, "matching quote", "matching quotes", bold, number_only=True)
    people = (f"{about(b.people)}{counted(b.people, 'person', 'people', bold)}"
              if b.people else "")
    companies = companies_phrase(b.companies, b.unnamed_companies, bold)
    if b.people > b.matches:
        distinct = counted(b.matches, "distinct quote", "distinct quotes", bold,
                           number_only=True)
        text = f"{people}{companies}, in {about(b.matches)}{distinct}"
    else:
        text = f"{about(b.matches)}{quotes}" + (f" from {people}" if people else "") + companies
    if b.first and b.last:
        text += (f", {date(b.first)} to {date(b.last)}" if b.first.date() != b.last.date()
                 else f", on {date(b.first)}")
    return text


def companies_phrase(companies: int, unnamed: bool, bold: str = "*", *,
                     number_only: bool = False) -> str:
    """" at 4 companies" when every quote names its company, " (4 companies named)" when some
    name none (so it is not read as everyone's), "" for none. ``bold`` wraps the number and
    the noun, or only the number with ``number_only``."""
    if not companies:
        return ""
    phrase = counted(companies, "company", "companies", bold, number_only=number_only)
    return f" ({phrase} named)" if unnamed else f" at {phrase}"


def counted(count: int, one: str, many: str, bold: str = "*", *,
            number_only: bool = False) -> str:
    """"*4 companies*": the count and its noun (``one`` or ``many``) wrapped in ``bold``, or
    only the number ("*4* companies") with ``number_only``."""
    noun = one if count == 1 else many
    return f"{bold}{count}{bold} {noun}" if number_only else f"{bold}{count} {noun}{bold}"


def breadth_text(result: SearchResult) -> str:
    return describe_breadth(result.breadth)


def search_reply(result: SearchResult, target: Target, *, mask: bool = True,
                 show_buttons: bool = True, max_depth: int = 50,
                 recency: str | None = None) -> tuple[str, Blocks]:
    """The `/voice` answer: breadth header (and how recent the evidence is), up to 5
    quotes, share and more buttons."""
    topic = result.query.topic
    title = f"What users said about \u201c{escape(topic)}\u201d" if topic else \
        "Recent user voices"
    header = f"*{title}*\n{breadth_text(result)}" + (f"\n{recency}" if recency else "")
    blocks: Blocks = [mrkdwn_section(header)]
    filters = result.query.describe_filters()
    if filters:
        blocks.append(context("Filters: " + escape("; ".join(filters))))
    for n, hit, less_related, alone in result.placed():
        if less_related:
            blocks.append(context(LESS_RELATED))
        blocks.extend(quote_blocks(hit, n, target, mask=mask, show_buttons=show_buttons,
                                   note=NOT_COUNTED if alone else ""))
    shown = result.offset + len(result.hits)
    if result.has_more and show_buttons and shown + len(result.hits) <= max_depth:
        # Which page to show next; where it may be shown comes from the click itself.
        page = MorePage(result.query.raw, shown)
        if page.fits():
            blocks.append({"type": "actions", "elements": [
                button("Show more results", "voice_more", page.encode())]})
    fallback = (f"{len(result.hits)} user quotes about \u201c{excerpt(topic, 100)}\u201d"
                if topic else "Recent user quotes")
    return fallback, blocks[:50]


#: above the quotes shown beyond the counted matches (the header does not count them)
LESS_RELATED = "Less closely related (not counted above):"
#: on one such quote shown among counted ones (source diversity moved it up)
NOT_COUNTED = " \u00b7 less closely related, not counted above"


def quote_blocks(hit: QuoteHit, n: int, target: Target, *, mask: bool,
                 show_buttons: bool, note: str = "") -> Blocks:
    quote = hit.quote
    body, shortened = quoted(quote.text, link=quote.source_url, mask=mask)
    section = mrkdwn_section(f"*{n}.*\n{body}", block_id=f"quote_{quote.id}")
    blocks: Blocks = [section, context(attribution(quote) + also_note(hit.also) + note)]
    if show_buttons:
        value = QuoteButton(quote.id).encode()
        elements = [button("Share in channel" if not target.thread_ts else "Share in thread",
                           "voice_share", value, style="primary")]
        # The full view also says where the quote was cited before.
        full = shortened and link(quote.source_url, "x") is None
        elements.append(button("Show full quote" if full else "Details", "voice_full", value))
        blocks.append({"type": "actions", "block_id": f"quote_actions_{quote.id}",
                       "elements": elements})
    return blocks


def shared_quote(quote: QuoteView, shared_by: str, *, mask: bool = True) -> tuple[str, Blocks]:
    body, _ = quoted(quote.text, link=quote.source_url, mask=mask, limit=2500)
    return (f"User voice shared by <@{shared_by}>: \u201c{excerpt(quote.text, 150)}\u201d",
            [mrkdwn_section(body), context(attribution(quote) + f" · shared by <@{shared_by}>")])


def full_quote_modal(quote: QuoteView, *, mask: bool = True, cited: str | None = None) -> dict:
    """The whole quote; ``cited`` is the line saying where it was brought in, if anywhere."""
    text = escape(mask_personal(quote.text) if mask else quote.text)
    chunks = [text[i : i + 2900] for i in range(0, len(text), 2900)] or [""]
    blocks = [mrkdwn_section(chunk) for chunk in chunks[:90]]
    blocks.append(context(attribution(quote)))
    if cited:
        blocks.append(context(cited))
    return {"type": "modal", "title": plain("Full quote", 24), "close": plain("Close"),
            "blocks": blocks}


def message(text: str) -> tuple[str, Blocks]:
    return text, [mrkdwn_section(text)]


USAGE = (
    "*`/voice <topic>`* brings what users actually said into the conversation.\n"
    "\u2022 `/voice export is slow` \u2014 the most relevant verbatim quotes, with who said "
    "them, where and when\n"
    "\u2022 Filters: `segment:enterprise` `company:Acme` `source:interview` "
    "`emotion:frustrated` `speaker:Dana` `since:30d` `before:2026-01-31` `new:yes` (users "
    "whose account was under 30 days old when they wrote to support; `new:no` the others)\n"
    "\u2022 In a thread, mention me instead: `@voicebot pricing`; `@voicebot evidence` lists "
    "every user quote brought into the thread\n"
    "\u2022 Capture: react to a message with :{emoji}: or use the *Save as user voice* "
    "shortcut on it.\n"
    "\u2022 Weekly digest: `/voice digest` shows its schedule; "
    "`/voice digest here monday 09:00 Europe/Paris` posts it in this channel; "
    "`/voice digest off` stops it\n"
    "\u2022 Evidence offers: `/voice suggest here` offers users' words to whoever speaks for "
    "users in this channel (`/voice suggest off` stops it)\n"
    "\u2022 In a channel shared with customers, admins can `/voice listen here` to keep "
    "their messages as user voices."
)


def usage(emoji: str, team_id: str | None = None) -> tuple[str, Blocks]:
    """`/voice help`; with the workspace id that `voicebot import --team` needs."""
    text = USAGE.replace("{emoji}", emoji)
    if team_id:
        text += (f"\n\u2022 This workspace's id, for importing notes with "
                 f"`voicebot import --team`: `{escape(team_id)}`")
    return message(text)


def no_match(topic: str, emoji: str) -> tuple[str, Blocks]:
    return message(
        f"No user quotes about \u201c{escape(topic)}\u201d yet. When a user says something "
        f"about it, react to their message with :{emoji}: (or use *Save as user voice*) so "
        "it is here for the next debate. You can also import interview notes or tickets "
        "with `voicebot import`.")


def problems(items: Sequence[str]) -> tuple[str, Blocks]:
    """What was wrong with a search (``parse_query`` already bounds the list), escaped."""
    lines = [f"\u2022 {escape(p)}" for p in items]
    return message("I could not use that search:\n" + "\n".join(lines)
                   + "\nType `/voice help` for the syntax.")
