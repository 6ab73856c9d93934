"""Offers of evidence and `/voice suggest` answers in Block Kit. Pure builders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.search import SearchResult
from bot.slack.payloads import OfferButton
from bot.slack.views.blocks import (
    Blocks,
    button,
    companies_phrase,
    context,
    date_token,
    escape,
    message,
)
from bot.slack.views.blocks import mrkdwn_section as section
from store.queries.suggest import Offer, OfferCounts

__all__ = ["Offer", "OfferCounts"]

USAGE = ("`/voice suggest here` offers users' words to whoever speaks for users in this "
         "channel (\u201cusers want\u2026\u201d, \u201ccustomers hate\u2026\u201d); "
         "`/voice suggest off` stops it; `/voice suggest` says whether it is on.")
SHOW, SHARE, NOT_HELPFUL = "offer_show", "offer_share", "offer_not_helpful"


def offer(offer_id: int, topic: str, result: SearchResult) -> tuple[str, Blocks]:
    """The ephemeral offer: "7 users at 5 companies talked about card delivery times"."""
    b = result.breadth
    who = f"{b.people} {'user' if b.people == 1 else 'users'}"
    who += companies_phrase(b.companies, b.unnamed_companies, bold="")
    text = (f"{who} talked about \u201c{escape(topic)}\u201d ({b.matches} quote"
            f"{'s' * (b.matches != 1)}) \u2014 see their words before you decide?")
    value = OfferButton(offer_id).encode()
    blocks: Blocks = [
        section(f":speech_balloon: {text}"),
        {"type": "actions", "elements": [
            button("Show their words", SHOW, value, style="primary"),
            button("Share in thread", SHARE, value),
            button("Not helpful", NOT_HELPFUL, value)]},
        context("Only you can see this. voicebot offers users' words when someone speaks "
                "for users here (at most once per thread). An admin can turn it off with "
                "`/voice suggest off`.")]
    return text, blocks


def thanks() -> tuple[str, Blocks]:
    return message("Thanks \u2014 noted. Offers that aren't helpful are counted, so the "
                   "channel can turn them off if they get in the way.")


def status(channel: str, enabled: bool, by: str | None, at: datetime | None,
           counts: OfferCounts) -> tuple[str, Blocks]:
    if not enabled:
        return message(f"Evidence offers are off in <#{channel}>. {USAGE}")
    since = f" (turned on by <@{by}> {date_token(at)})" if by and at else ""
    return message(f"Evidence offers are on in <#{channel}>{since}. In this workspace so "
                   f"far: {counts.made} offered, {counts.shown + counts.shared} taken up, "
                   f"{counts.not_helpful} marked not helpful. `/voice suggest off` stops "
                   "them.")


def turned(channel: str, on: bool, already: bool) -> tuple[str, Blocks]:
    if on:
        return message(("Evidence offers were already on" if already else
                        "Evidence offers are on") + f" in <#{channel}>: when someone speaks "
                       "for users, I offer them (only them) users' actual words, at most once "
                       "per thread and a few times a day. `/voice suggest off` stops it.")
    return message(("Evidence offers were already off" if already else
                    "Evidence offers are off") + f" in <#{channel}>.")


def home_lines(channels: Sequence[str], counts: OfferCounts) -> str:
    if not channels:
        return ("*Evidence offers:* off everywhere. `/voice suggest here` in a channel offers "
                "users' words to whoever speaks for users there.")
    listed = ", ".join(f"<#{c}>" for c in channels[:20])
    more = f" and {len(channels) - 20} more" if len(channels) > 20 else ""
    return (f"*Evidence offers on in:* {listed}{more} \u00b7 {counts.made} offered, "
            f"{counts.shown + counts.shared} taken up, {counts.not_helpful} not helpful")
