"""Listening in shared channels: the channel's one-time announcement, replies to
`/voice listen`, and the App Home section (pure Block Kit builders)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.slack.views.blocks import Blocks, context, message, mrkdwn_section

USAGE = ("`/voice listen here` keeps messages from other organisations' members in this "
         "channel as user voices, `/voice listen off` stops, `/voice listen` tells whether "
         "it is on.")
HOME_LIMIT = 30  # channels listed by name in App Home


def announcement(channel: str, enabled_by: str, remove_emoji: str) -> tuple[str, Blocks]:
    """Posted once, visibly, in a channel where listening was first turned on."""
    text = (f":ear: From now on I keep messages that members of other organisations post in "
            f"<#{channel}> as *user voices*: their exact words, with their name, "
            "organisation and a link back here, so the team can find what customers said. "
            "Greetings, thanks and other short messages are not kept, and messages from "
            "this workspace's own members never are.")
    removal = (f"*To have your words removed:* react to your message with :{remove_emoji}:, "
               "or delete it (its saved copy goes with it; an edit is followed too), or ask "
               f"<@{enabled_by}> or another workspace admin.")
    blocks: Blocks = [mrkdwn_section(text), mrkdwn_section(removal),
                      context(f"Listening was turned on by <@{enabled_by}>. It stops with "
                              "`/voice listen off`.")]
    fallback = (f"I keep messages from other organisations' members in <#{channel}> as user "
                f"voices. To have yours removed, react to it with :{remove_emoji}:, delete "
                f"it, or ask <@{enabled_by}> or a workspace admin.")
    return fallback, blocks


def _since(when: datetime | None) -> str:
    return f" since {when:%Y-%m-%d}" if when is not None else ""


def status(channel: str, on: bool, changed_by: str | None,
           changed_at: datetime | None) -> tuple[str, list[dict]]:
    """The reply to `/voice listen` with no argument."""
    if on:
        return message(f"Listening is *on* in <#{channel}>{_since(changed_at)} (turned on by "
                       f"<@{changed_by}>): messages from other organisations' members are "
                       "kept as user voices. `/voice listen off` stops it.")
    return message(f"Listening is *off* in <#{channel}>. {USAGE}")


def turned_on(channel: str, *, announced_now: bool, already: bool,
              external: bool) -> tuple[str, list[dict]]:
    if already:
        head = f"Listening is already on in <#{channel}>."
    elif announced_now:
        head = (f"Listening is on in <#{channel}>. I told the channel what I keep and how "
                "to have words removed.")
    else:
        head = (f"Listening is on again in <#{channel}>. The channel was told when it was "
                "first turned on, so I did not announce it again.")
    if not external:
        head += (" This channel is not shared with another organisation, so nothing is kept "
                 "until it is: only other organisations' members' messages are.")
    return message(head)


def turned_off(channel: str, *, already: bool) -> tuple[str, list[dict]]:
    if already:
        return message(f"Listening was not on in <#{channel}>.")
    return message(f"Listening is off in <#{channel}>. Quotes already kept stay; delete one "
                   "from its *Delete* button or remove a person's words with "
                   "`voicebot forget --speaker NAME`.")


def home_section(channels: Sequence[str]) -> Blocks:
    """App Home: where listening is on."""
    if not channels:
        return [mrkdwn_section("*Listening in shared channels:* off everywhere. In a channel "
                               "shared with customers, an admin turns it on with "
                               "`/voice listen here`.")]
    shown = ", ".join(f"<#{c}>" for c in channels[:HOME_LIMIT])
    more = len(channels) - HOME_LIMIT
    if more > 0:
        shown += f" and {more} more"
    return [mrkdwn_section(f"*Listening in shared channels:* {shown}"),
            context("Messages from other organisations' members there are kept as user "
                    "voices. `/voice listen off` in a channel stops it.")]
