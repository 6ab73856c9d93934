"""Listening in channels shared with customers: `/voice listen [here|off]` and the messages
heard while it is on.

While an admin has listening on in a channel, a message from a member of another
organisation (Slack Connect) that says something (:mod:`bot.core.substance`) is kept as a
quote, attributed as a reaction capture is, ``captured_by`` :data:`LISTENING`. Internal
members', bots' and integrations' messages, hidden or placeholder messages are never kept.
Edits and deletions follow through :mod:`.message_changes` as for any captured message.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.substance import has_content
from bot.slack.listeners.capture import REMOVE_EMOJI, is_placeholder, said_at
from bot.slack.listeners.runtime import Runtime
from bot.slack.views import blocks
from bot.slack.views import listening as views
from store.errors import DatabaseUnavailable, InvalidQuote
from store.policy import from_outside
from store.queries.quotes import NewQuote
from store.vocab import SourceKind

log = logging.getLogger(__name__)
#: ``captured_by`` of quotes kept by listening (no person captured them).
LISTENING = "listening"
#: Message subtypes that carry a person's own new words; every other subtype (edits,
#: deletions, joins, bot messages, tombstones...) is never kept.
HEARD_SUBTYPES = (None, "thread_broadcast", "file_share")
Reply = tuple[str, list[dict]]


def listen_command(rt: Runtime, client: WebClient, team_id: str, user: str, channel: str,
                   args: str) -> Reply:
    """The reply to `/voice listen [here|on|off]` in ``channel``; changes only for whoever the
    workspace lets change settings."""
    word = args.strip().lower()
    listening = rt.services.listening
    try:
        if word == "":
            state = listening.state(team_id, channel)
            return views.status(channel, state.enabled, state.changed_by, state.changed_at)
        if word not in {"here", "on", "off"}:
            return blocks.message(f"I don't know `listen {blocks.escape(args.strip()[:50])}`. "
                                  f"{views.USAGE}")
        if channel.startswith("D"):
            return blocks.message("Listening works in channels shared with customers, not in "
                                  "direct messages.")
        allowed, who = rt.permissions.settings(client, team_id, user)
        if not allowed:
            log.warning("listening change refused", extra={"team": team_id, "user": user})
            return blocks.message(f"Only {who} can turn listening on or off. Ask one of them; "
                                  "`/voice listen` shows whether it is on here.")
        before = listening.state(team_id, channel)
        if word == "off":
            if before.enabled:
                listening.turn(team_id, channel, False, by=user)
            log.info("listening off", extra={"team": team_id, "channel": channel})
            return views.turned_off(channel, already=not before.enabled)
        return turn_on(rt, client, team_id, user, channel, already=before.enabled)
    except DatabaseUnavailable:
        log.warning("listen: database unavailable", extra={"team": team_id})
        return blocks.message("My database is unavailable right now. Please try again in a "
                              "minute.")


def turn_on(rt: Runtime, client: WebClient, team_id: str, user: str, channel: str, *,
            already: bool) -> Reply:
    """Turn listening on; the first time ever, tell the channel (once, across replicas). If
    the channel cannot be told, listening goes back off: nobody is listened to unawares."""
    listening = rt.services.listening
    external = rt.directory.conversation(client, team_id, channel).external
    if already:
        return views.turned_on(channel, announced_now=False, already=True, external=external)
    # told before listening starts: not one message is kept before the channel knows
    listening.turn(team_id, channel, False, by=user)
    announced_now = listening.claim_announcement(team_id, channel)
    if announced_now:
        text, msg_blocks = views.announcement(channel, user, REMOVE_EMOJI)
        try:
            client.chat_postMessage(channel=channel, text=text, blocks=msg_blocks,
                                    unfurl_links=False)
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("listening announcement failed", extra={"channel": channel,
                                                                "error": error})
            listening.announcement_failed(team_id, channel)
            return blocks.message("Listening stays off: the channel must be told first. "
                                  + rt.explain_post_error(error, channel))
    listening.turn(team_id, channel, True, by=user)
    log.info("listening on", extra={"team": team_id, "channel": channel,
                                    "announced": announced_now})
    return views.turned_on(channel, announced_now=announced_now, already=False,
                           external=external)


def hear(rt: Runtime, client: WebClient, team_id: str, event: dict) -> None:
    """A new message in a channel: kept only where listening is on, from an outsider, and
    only when it says something (the Slack look-ups and the save run after the ack)."""
    channel, ts, user = event.get("channel"), event.get("ts"), event.get("user")
    if (not channel or not ts or not user or event.get("bot_id") or event.get("hidden")
            or is_placeholder(event) or event.get("subtype") not in HEARD_SUBTYPES):
        return
    try:
        if not rt.services.listening.is_on(team_id, channel):
            return
    except DatabaseUnavailable:
        log.warning("listening: database unavailable; message not kept",
                    extra={"team": team_id, "channel": channel})
        return
    if not has_content(str(event.get("text") or "")):
        log.info("listening: content-free message skipped", extra={"channel": channel})
        return
    rt.must_run(_keep, rt, client, team_id, dict(event))


def _keep(rt: Runtime, client: WebClient, team_id: str, event: dict) -> None:
    services = rt.services
    channel, ts, user = str(event["channel"]), str(event["ts"]), str(event["user"])
    where = rt.directory.conversation(client, team_id, channel)
    speaker = rt.directory.user(client, team_id, user)
    # the author's organisation: the event's word, else their profile's (users.info)
    team = event.get("user_team") or speaker.team_id or event.get("team")
    if speaker.is_bot or not from_outside(team_id, team, where.audience()):
        return  # the workspace's own people (or a bot): never kept by listening
    name = speaker.name
    if name.startswith("<@"):  # users.info failed; the event's profile may say
        profile = event.get("user_profile") or {}
        name = profile.get("real_name") or profile.get("display_name") or name
    if where.is_private:
        services.edits.mark_conversation_private(team_id, channel)
    new = NewQuote(
        team_id=team_id, text=str(event.get("text") or ""), source_kind=SourceKind.SLACK,
        speaker_name=name, speaker_user_id=user, speaker_team_id=team,
        company=rt.directory.org_name(client, team_id, str(team)),
        source_url=rt.directory.permalink(client, channel, ts), channel_id=channel,
        message_ts=ts, thread_ts=event.get("thread_ts"), is_private=where.is_private,
        captured_by=LISTENING, said_at=said_at(ts))
    try:
        result = services.capture.save(new)
    except InvalidQuote as exc:
        log.info("listening: message not storable", extra={"reason": str(exc)[:200]})
        return
    except DatabaseUnavailable:
        log.warning("listening: database unavailable; will retry", extra={"team": team_id})
        rt.retry(lambda: services.capture.save(new))
        return
    log.info("listening: message kept", extra={"team": team_id, "quote_id": result.quote.id,
                                               "new": result.created})
