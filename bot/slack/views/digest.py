"""Pure rendering of a :class:`~bot.core.digest.DigestData` as Block Kit and as plain text."""

from __future__ import annotations

from bot.core.digest import HABIT_TARGET, DigestData
from bot.slack.views.blocks import (
    Blocks,
    attribution,
    companies_phrase,
    context,
    counted,
    date_token,
    escape,
    mrkdwn_section,
    plain,
    quoted,
)
from store.queries.quotes import QuoteView

QUOTE_CHARS = 280


def _quote(view: QuoteView, mask: bool) -> list[dict]:
    body, _ = quoted(view.text, limit=QUOTE_CHARS, link=view.source_url, mask=mask)
    return [mrkdwn_section(body), context(attribution(view))]


def _period(data: DigestData) -> str:
    """``Nov 30 \u2013 Dec 06, 2026``: the calendar days the period covers. A week runs from
    one digest moment to the next (Monday 09:00 to Monday 09:00), so its last day is the
    day before its end; a shorter period ("so far this week") ends today."""
    from datetime import timedelta

    last = data.end - timedelta(days=1) if data.end - data.start >= timedelta(days=7) \
        else data.end
    if last.date() <= data.start.date():
        return f"{data.start:%b %d, %Y}"
    return f"{data.start:%b %d} \u2013 {last:%b %d, %Y}"


def _breadth(data: DigestData, bold: str = "") -> str:
    """"12 new quotes from 7 people at 4 companies", the parts that are zero left out."""
    text = counted(data.total, "new quote", "new quotes", bold, number_only=True)
    if data.people:
        text += f" from {counted(data.people, 'person', 'people', bold, number_only=True)}"
    text += companies_phrase(data.companies, data.unnamed_companies, bold, number_only=True)
    return text + "."


def digest_blocks(data: DigestData, *, mask: bool = True) -> tuple[str, Blocks]:
    """The weekly post (at most 50 blocks; every quote verbatim or visibly shortened)."""
    out: Blocks = [{"type": "header", "text": plain(f"User voices \u00b7 week of "
                                                     f"{_period(data)}", 150)}]
    if data.quiet:
        out.append(mrkdwn_section(
            "*A quiet week: no new user quotes were captured.* That usually means we talked "
            "to users less, not that they had nothing to say. Places to listen this week: "
            "new users' support tickets, churned accounts' last conversations, and the "
            "sales calls on your calendar. React with the capture emoji when you hear "
            "something worth keeping."))
    else:
        out.append(mrkdwn_section(_breadth(data, "*")))
    if data.themes:
        out += [{"type": "divider"}, mrkdwn_section("*Themes*")]
        for theme in data.themes:
            out.append(context(f"*{theme.label}* \u00b7 {theme.size} quotes"))
            out += _quote(theme.representative, mask)
    sections = (("Frustrated", data.frustrated), ("Confused", data.confused),
                ("Disappointed", data.disappointed), ("Delighted", data.delighted))
    if any(voices for _, voices in sections):
        out += [{"type": "divider"}, mrkdwn_section("*How users felt*")]
        for title, voices in sections:
            if voices:
                out.append(context(f"*{title}*"))
                for view in voices[:2]:
                    out += _quote(view, mask)
    if data.used:
        out += [{"type": "divider"},
                mrkdwn_section("*Pulled into debates this week* (via `/voice`, @mentions or "
                               "shared; `@voicebot evidence` in a thread lists its quotes)")]
        for view, uses in data.used[:3]:
            out += _quote(view, mask)
            out.append(context(debates(uses)))
    if data.old_evidence:
        topics = ", ".join(f"\u201c{escape(t)}\u201d (newest quote {date_token(when)})"
                           for t, when in data.old_evidence)
        out.append(mrkdwn_section(
            f":hourglass: *Argued on old evidence this week:* {topics}. No one has said "
            f"these in the last {data.stale_months} months \u2014 worth asking again?"))
    lo, hi = HABIT_TARGET
    out += [{"type": "divider"}, mrkdwn_section("*The habit*: each of us hearing from "
                                                f"{lo}\u2013{hi} users a week")]
    if data.habits:
        lines = [f"<@{h.user_id}> heard from *{h.people}* user{'s' * (h.people != 1)} "
                 f"({h.quotes} quote{'s' * (h.quotes != 1)})"
                 + (" :white_check_mark:" if h.people >= lo else "") for h in data.habits[:15]]
        out.append(mrkdwn_section("\n".join(lines)))
    else:
        out.append(context("Nobody captured a user's words this week."))
    text = (f"User voices this week: {data.total} new quotes from {data.people} people"
            if not data.quiet else "User voices this week: a quiet week")
    return text, out[:50]


def digest_text(data: DigestData, *, so_far: bool = False) -> str:
    """The same digest as a person reads it in a terminal (`voicebot digest --preview`);
    ``so_far``: the week in progress, labelled so."""
    from bot.cli.terminal import attribution as plain_attribution

    title = (f"so far this week ({_period(data)})" if so_far else f"week of {_period(data)}")
    lines = [f"User voices \u00b7 {title}", ""]
    if data.quiet and so_far:
        lines.append(f"Nothing captured so far this week (since {data.start:%a %b %d %H:%M}). "
                     "`voicebot digest --week YYYY-MM-DD` previews a past week.")
    elif data.quiet:
        lines.append("A quiet week: no new user quotes were captured. Listen in new users' "
                     "support tickets, churned accounts' last conversations, sales calls.")
    else:
        lines.append(_breadth(data))

    def add(view: QuoteView) -> None:
        lines.append(f"  \u201c{view.text}\u201d")
        lines.append(f"     \u2014 {plain_attribution(view)}")

    for theme in data.themes:
        lines += ["", f"Theme: {theme.label} ({theme.size} quotes)"]
        add(theme.representative)
    for title, voices in (("Frustrated", data.frustrated), ("Confused", data.confused),
                          ("Disappointed", data.disappointed), ("Delighted", data.delighted)):
        if voices:
            lines += ["", title]
            for view in voices[:2]:
                add(view)
    if data.used:
        lines += ["", "Pulled into debates this week"]
        for view, uses in data.used[:3]:
            add(view)
            lines.append(f"     {debates(uses)}")
    if data.old_evidence:
        lines += ["", f"Argued on old evidence (nothing said in the last {data.stale_months} "
                      "months; worth asking again)"]
        lines += [f"  \u201c{t}\u201d, newest quote {when:%Y-%m-%d}"
                  for t, when in data.old_evidence]
    lines += ["", f"The habit ({HABIT_TARGET[0]}-{HABIT_TARGET[1]} users per person per week)"]
    lines += [f"  {h.user_id}: heard from {h.people} users ({h.quotes} quotes)"
              for h in data.habits] or ["  nobody captured a user's words this week"]
    return "\n".join(lines) + "\n"


def debates(n: int) -> str:
    """How many conversations or threads a quote was brought into this week."""
    return f"brought into {n} conversation{'s' * (n != 1)} or thread{'s' * (n != 1)}"
