"""Capture surfaces: the capture emoji, the "Save as user voice" shortcut and its modal,
editing and deleting a quote, and keeping quotes true to edited or deleted messages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from slack_bolt import Ack, App, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.listeners.runtime import NOT_IN_CHANNEL, Runtime
from bot.slack.payloads import STALE_BUTTON, CaptureForm, EditForm, MorePage, QuoteButton
from bot.slack.views import blocks, modals, review
from store.errors import DatabaseUnavailable, InvalidQuote
from store.queries.quotes import NewQuote, QuoteView
from store.vocab import SourceKind

if TYPE_CHECKING:
    from bot.core.capture import SaveResult

log = logging.getLogger(__name__)
SHORTCUT = "save_user_voice"
NOT_YOURS = ("Only the person who captured this quote or a workspace admin can change or "
             "delete it.")
QUOTE_ID_BUTTONS = {"quote_edit", "quote_delete", review.KEEP_ACTION, "voice_full",
                    "voice_share"}


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


def stale_button(body: dict) -> bool:
    """A quote button whose value cannot be what voicebot sent (a forged or huge id, an
    unreadable "Show more"): answer "out of date" instead of passing it on to SQL."""
    if body.get("type") != "block_actions":
        return False
    for action in body.get("actions") or []:
        action_id, value = action.get("action_id"), action.get("value")
        if action_id in QUOTE_ID_BUTTONS and QuoteButton.decode(value) is None:
            return True
        if action_id == "voice_more" and MorePage.decode(value) is None:
            return True
    return False


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

    @app.middleware
    def refuse_stale_buttons(body: dict, client: WebClient, respond: Respond | None,
                             next_: Callable[[], BoltResponse]) -> BoltResponse:
        if not stale_button(body):
            return next_()
        user = (body.get("user") or {}).get("id", "")
        log.info("stale button refused", extra={"user": user, "actions": [
            a.get("action_id") for a in body.get("actions") or []]})

        def explain() -> None:
            if body.get("response_url") and respond is not None:
                respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
            else:
                tell(client, None, user, blocks.message(STALE_BUTTON))

        rt.background(explain)
        return BoltResponse(status=200, body="")

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
        if event.get("reaction", "").split("::")[0] != emoji:
            return
        item = event.get("item") or {}
        if item.get("type") != "message":  # redeliveries are dropped by bot.slack.dedupe
            return
        channel, ts, user = item.get("channel"), item.get("ts"), event.get("user", "")
        if not channel or not ts:
            log.warning("reaction without channel or ts", extra={"event_id": body.get("event_id")})
            return
        rt.background(capture_reaction, client, team_id, channel, ts, user)

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
        rt.background(save_shortcut, client, team_id, user, text, form, details)

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

    def changeable(action: dict, body: dict, context: BoltContext, respond: Respond,
                   client: WebClient, what: str) -> QuoteView | None:
        """The quote a button is about, if it exists and the clicker may change it (the
        stored quote and Slack's word on the user decide); otherwise they are told why."""
        user = body.get("user", {}).get("id", "")
        quote = _quote(rt, context, action)
        if quote is None:
            respond(text="That quote is gone, or the button is out of date.",
                    response_type="ephemeral", replace_original=False)
            return None
        if not rt.permissions.may_change(client, context.team_id or "", user, quote):
            log.warning("quote change refused", extra={"quote_id": quote.id, "user": user,
                                                       "action": what})
            respond(text=NOT_YOURS, response_type="ephemeral", replace_original=False)
            return None
        return quote

    @app.action("quote_edit")
    def edit(ack: Ack, action: dict, body: dict, context: BoltContext, respond: Respond,
             client: WebClient) -> None:
        ack()
        if (quote := changeable(action, body, context, respond, client, "edit")) is not None:
            client.views_open(trigger_id=body["trigger_id"], view=modals.edit_modal(quote))

    @app.view(modals.EDIT_CALLBACK)
    def edit_submitted(ack: Ack, body: dict, view: dict, context: BoltContext,
                       client: WebClient) -> None:
        details = modals.read_details(view.get("state", {}).get("values", {}))
        user = body.get("user", {}).get("id", "")
        team_id = context.team_id or ""
        form = EditForm.decode(view.get("private_metadata"))
        quote = services.lookup.get(team_id, form.quote_id) if form else None
        if quote is None:
            ack(response_action="errors", errors={"speaker": "This form is out of date: "
                                                  "the quote is gone."})
            return
        # Checked again here: the form may have been forged or opened before a role change.
        if not rt.permissions.may_change(client, team_id, user, quote):
            log.warning("quote change refused", extra={"quote_id": quote.id, "user": user,
                                                       "action": "edit_submit"})
            ack(response_action="errors", errors={"speaker": NOT_YOURS})
            return
        ack()
        changes: dict[str, object] = {
            "speaker_name": details.speaker, "company": details.company,
            "segment": details.segment, "source_kind": details.source,
            "first_hand": details.first_hand,
            "relayed_by": details.relayed_by if not details.first_hand else None}
        if details.emotion is not None:
            changes["emotion"] = details.emotion
            changes["emotion_by"] = user
        if details.shareable is not None and quote.is_private:
            changes["shareable"] = details.shareable
        try:
            services.edits.update_details(team_id, quote.id, **changes)
        except InvalidQuote as exc:
            log.info("edit refused", extra={"quote_id": quote.id, "reason": str(exc)})

    @app.action("quote_delete")
    def delete(ack: Ack, action: dict, body: dict, context: BoltContext, respond: Respond,
               client: WebClient) -> None:
        ack()
        if (quote := changeable(action, body, context, respond, client, "delete")) is None:
            return
        services.deletion.delete(context.team_id or "", quote.id,
                                 by=body.get("user", {}).get("id", ""))
        respond(text="Deleted. The quote is gone from voicebot.", replace_original=True)

    @app.event({"type": "message", "subtype": "message_changed"})
    def message_changed(event: dict, context: BoltContext, client: WebClient) -> None:
        msg = event.get("message") or {}
        channel = event.get("channel")
        ts = msg.get("ts") or (event.get("previous_message") or {}).get("ts")
        if not channel or not ts:
            return
        team_id = context.team_id or ""
        if is_placeholder(msg):  # e.g. a deleted thread parent that still has replies
            services.deletion.delete_message(team_id, channel, ts)
        elif isinstance(msg.get("text"), str):
            rt.background(follow_edit, client, team_id, channel, ts, msg["text"])

    def follow_edit(client: WebClient, team_id: str, channel: str, ts: str,
                    text: str) -> None:
        quote = services.edits.edit_message(team_id, channel, ts, text)
        if quote is not None and quote.source_changed and quote.captured_by:
            tell(client, None, quote.captured_by,
                 review.source_changed_notice(quote, mask=rt.mask))

    @app.event({"type": "message", "subtype": "message_deleted"})
    def message_deleted(event: dict, context: BoltContext) -> None:
        ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
        if event.get("channel") and ts:
            services.deletion.delete_message(context.team_id or "", event["channel"], ts)

    @app.action(review.KEEP_ACTION)
    def keep_as_saved(ack: Ack, action: dict, body: dict, context: BoltContext,
                      respond: Respond, client: WebClient) -> None:
        ack()
        if (quote := changeable(action, body, context, respond, client, "keep")) is None:
            return
        services.edits.keep_as_saved(context.team_id or "", quote.id)
        respond(text="Kept as saved: the quote keeps the words it was saved with.",
                replace_original=True)

    @app.event("message")
    def other_messages() -> None:
        """Plain messages need no action; handled so Bolt does not warn about them."""


def _quote(rt: Runtime, context: BoltContext, action: dict) -> QuoteView | None:
    button = QuoteButton.decode(action.get("value"))
    return rt.services.lookup.get(context.team_id or "", button.quote_id) if button else None
