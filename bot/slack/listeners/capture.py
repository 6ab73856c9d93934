"""Capture surfaces: the capture emoji and the "Save as user voice" shortcut with its form.
Buttons on a saved quote are in :mod:`.quote_actions`; edited and deleted messages in
:mod:`.message_changes`."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.capture_backlog import Deferred
from bot.slack.listeners.runtime import NOT_IN_CHANNEL, Runtime
from bot.slack.payloads import CaptureForm
from bot.slack.views import blocks, modals
from store.errors import DatabaseUnavailable, InvalidQuote
from store.queries.quotes import NewQuote
from store.vocab import SourceKind

if TYPE_CHECKING:
    from bot.core.capture import SaveResult

log = logging.getLogger(__name__)
SHORTCUT = "save_user_voice"
#: The author of a saved message reacts with this to have its quote removed (their words).
REMOVE_EMOJI = "no_entry_sign"


def said_at(ts: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), tz=timezone.utc)
    except (TypeError, ValueError):
        return None


def is_placeholder(message: dict) -> bool:
    """Slack's stand-in for a deleted or hidden message, never a person's words: a thread
    parent deleted while it has replies becomes ``{"subtype": "tombstone", "hidden": true,
    "text": "This message was deleted."}``."""
    return message.get("subtype") == "tombstone" or message.get("hidden") is True


def tell(client: WebClient, channel: str | None, user: str, reply: tuple[str, list[dict]]) -> None:
    """An ephemeral note in the conversation, or a DM when that is not possible."""
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=reply[0], blocks=reply[1])
            return
    except SlackApiError as exc:
        log.info("ephemeral failed; sending a DM", extra={"error": exc.response.get("error")})
    try:
        client.chat_postMessage(channel=user, text=reply[0], blocks=reply[1])
    except SlackApiError as exc:
        log.warning("could not tell the user", extra={"user": user,
                                                      "error": exc.response.get("error")})


def register(app: App, rt: Runtime) -> None:
    services = rt.services
    pending = services.pending

    def confirm(client: WebClient, channel: str | None, user: str,
                result: SaveResult) -> None:
        # Edit and Delete are offered only to whoever the policy lets change the quote.
        allowed = rt.permissions.may_change(client, result.quote.team_id, user, result.quote)
        tell(client, channel, user, modals.capture_confirmation(
            result.quote, created=result.created, mask=rt.mask, can_change=allowed))

    def save_or_explain(client: WebClient, channel: str | None, user: str,
                        new: NewQuote) -> None:
        try:
            confirm(client, channel, user, services.capture.save(new))
        except InvalidQuote as exc:
            tell(client, channel, user, blocks.message(f"I couldn't save that: {exc}."))
        except DatabaseUnavailable:
            log.warning("capture deferred: database unavailable", extra={"team": new.team_id})
            tell(client, channel, user, blocks.message(
                "My database is unavailable right now. I'll keep trying to save this quote "
                "and tell you when it's saved."))
            rt.retry(lambda: confirm(client, channel, user, services.capture.save(new)))

    @app.event("reaction_added")
    def on_reaction(event: dict, body: dict, context: BoltContext, client: WebClient) -> None:
        team_id = context.team_id or body.get("team_id", "")
        emoji = rt.emoji(team_id)
        reaction = event.get("reaction", "").split("::")[0]
        item = event.get("item") or {}
        if reaction == REMOVE_EMOJI and emoji != REMOVE_EMOJI and item.get("type") == \
                "message" and item.get("channel") and item.get("ts") and event.get("user"):
            rt.must_run(remove_own_words, client, team_id, item["channel"], item["ts"],
                        event["user"])
            return
        if reaction != emoji:
            return
        if item.get("type") != "message":  # redeliveries are dropped by bot.slack.dedupe
            return
        channel, ts, user = item.get("channel"), item.get("ts"), event.get("user", "")
        if not channel or not ts:
            log.warning("reaction without channel or ts", extra={"event_id": body.get("event_id")})
            return
        # on the work pool, or kept in the database while it is full: never lost
        rt.capture(Deferred(team_id, channel, ts, user))

    def run_capture(capture: Deferred) -> None:
        client = rt.client_for(capture.team_id) if rt.client_for else app.client
        capture_reaction(client, capture.team_id, capture.channel_id, capture.message_ts,
                         capture.user_id)

    rt.run_deferred = run_capture

    def remove_own_words(client: WebClient, team_id: str, channel: str, ts: str,
                         user: str) -> None:
        """Whoever said a saved message's words may take them back (store.policy)."""
        if services.deletion.remove_own_words(team_id, channel, ts, user):
            tell(client, channel, user, blocks.message(
                "I removed your message from the user voices I keep."))

    def capture_reaction(client: WebClient, team_id: str, channel: str, ts: str,
                         user: str) -> None:
        try:
            message = client.reactions_get(channel=channel, timestamp=ts, full=True)["message"]
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.info("reactions.get failed", extra={"channel": channel, "error": error})
            if error in NOT_IN_CHANNEL:
                text = (f"I can't read messages in <#{channel}>, so I couldn't save that quote. "
                        "Invite me with `/invite @voicebot` there, then react again.")
            elif error == "message_not_found":
                text = "That message was deleted before I could save it."
            else:
                text = f"Slack wouldn't give me that message ({error}). Please react again."
            tell(client, None, user, blocks.message(text))
            return
        text = message.get("text") or ""
        if is_placeholder(message):
            tell(client, channel, user, blocks.message(
                "That message was deleted, so there are no words to keep."))
            return
        if not text.strip():
            tell(client, channel, user, blocks.message(
                "That message has no text to keep (files and images aren't captured)."))
            return
        speaker = rt.directory.speaker_of(client, team_id, message)
        private = rt.directory.is_private(client, team_id, channel)
        if private:  # the channel may have become private since earlier captures
            services.edits.mark_conversation_private(team_id, channel)
        save_or_explain(client, channel, user, NewQuote(
            team_id=team_id, text=text, source_kind=SourceKind.SLACK,
            speaker_name=speaker.name, speaker_user_id=speaker.user_id,
            speaker_team_id=speaker.team_id if speaker.team_id != team_id else None,
            source_url=rt.directory.permalink(client, channel, message.get("ts", ts)),
            channel_id=channel, message_ts=message.get("ts", ts),
            thread_ts=message.get("thread_ts"), is_private=private,
            captured_by=user, said_at=said_at(message.get("ts", ts))))

    @app.shortcut(SHORTCUT)
    def shortcut(ack: Ack, shortcut: dict, context: BoltContext, client: WebClient) -> None:
        ack()
        message = shortcut.get("message") or {}
        channel = (shortcut.get("channel") or {}).get("id")
        user = (shortcut.get("user") or {}).get("id", "")
        team_id = context.team_id or (shortcut.get("team") or {}).get("id", "")
        text = message.get("text") or ""
        if is_placeholder(message):
            tell(client, channel, user, blocks.message(
                "That message was deleted, so there are no words to keep."))
            return
        if not text.strip() or not channel or not message.get("ts"):
            tell(client, channel, user, blocks.message(
                "That message has no text to keep (files and images aren't captured)."))
            return
        try:  # the words wait on the server (any replica), never in the form's metadata
            pending.hold(team_id, user, channel, message["ts"], text)
        except DatabaseUnavailable:
            log.warning("shortcut: database unavailable", extra={"team": team_id})
            tell(client, channel, user, blocks.message(
                "My database is unavailable right now, so I can't save quotes. Please try "
                "again in a minute."))
            return
        form = CaptureForm(channel, message["ts"], message.get("thread_ts"),
                           message.get("user"), message.get("username") or
                           (message.get("bot_profile") or {}).get("name"))
        view = modals.capture_modal(message_text=text, form=form, speaker=None,
                                    first_hand=True)
        client.views_open(trigger_id=shortcut["trigger_id"], view=view)

    @app.view(modals.CAPTURE_CALLBACK)
    def capture_submitted(ack: Ack, body: dict, view: dict, context: BoltContext,
                          client: WebClient) -> None:
        user = body.get("user", {}).get("id", "")
        team_id = context.team_id or body.get("team", {}).get("id", "")
        form = CaptureForm.decode(view.get("private_metadata"))
        try:  # found only for the workspace and person submitting (not the metadata's word)
            text = pending.text(team_id, user, form.channel_id, form.message_ts) if form else None
        except DatabaseUnavailable:
            ack(response_action="errors", errors={"excerpt": "My database is unavailable "
                                                  "right now. Please try again in a minute."})
            return
        if not text:
            ack(response_action="errors", errors={"excerpt": "This form expired. Close it "
                                                  "and use the shortcut again."})
            return
        details = modals.read_details(view.get("state", {}).get("values", {}))
        if details.excerpt is not None and details.excerpt not in text:
            ack(response_action="errors", errors={"excerpt": "The excerpt must be copied "
                "exactly from the message (same words, spelling and punctuation)."})
            return
        ack()
        rt.must_run(save_shortcut, client, team_id, user, text, form, details)

    def save_shortcut(client: WebClient, team_id: str, user: str, text: str, form: CaptureForm,
                      details: modals.Details) -> None:
        channel, ts = form.channel_id, form.message_ts
        speaker_user = form.author_id
        speaker_name = details.speaker
        if not speaker_name:
            speaker_name = (rt.directory.user(client, team_id, speaker_user).name
                            if speaker_user else form.bot_name or "an integration")
        elif speaker_user and details.first_hand is False:
            speaker_user = None  # the author relayed someone else's words
        emotion = details.emotion
        relayed_by = details.relayed_by
        if not details.first_hand and not relayed_by and form.author_id:
            relayed_by = rt.directory.user(client, team_id, form.author_id).name
        excerpt = details.excerpt
        is_excerpt = excerpt is not None and excerpt != text
        save_or_explain(client, channel, user, NewQuote(
            team_id=team_id, text=excerpt if is_excerpt and excerpt is not None else text,
            source_kind=SourceKind(details.source),
            speaker_name=speaker_name, speaker_user_id=speaker_user,
            company=details.company, segment=details.segment,
            source_url=rt.directory.permalink(client, channel, ts),
            channel_id=channel, message_ts=ts, thread_ts=form.thread_ts,
            is_private=rt.directory.is_private(client, team_id, channel),
            first_hand=details.first_hand, relayed_by=relayed_by,
            captured_by=user, said_at=said_at(ts), emotion=emotion,
            emotion_confidence=1.0 if emotion else None, is_excerpt=is_excerpt))
        try:  # the form is closed: its held text is not needed any more
            pending.release(team_id, user, channel, ts)
        except DatabaseUnavailable:
            log.info("pending text left to expire", extra={"team": team_id})
