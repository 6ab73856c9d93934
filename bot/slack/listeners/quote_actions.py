"""The buttons on a saved quote (Edit details and its form, Delete, Keep as saved), for its
capturer or a workspace admin only; and the answer to any quote button whose value cannot be
one voicebot sent."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import Ack, App, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient

from bot.slack.listeners.capture import tell
from bot.slack.listeners.runtime import Runtime
from bot.slack.payloads import STALE_BUTTON, EditForm, MorePage, QuoteButton
from bot.slack.views import blocks, modals, review
from store.errors import InvalidQuote
from store.queries.quotes import QuoteView

log = logging.getLogger(__name__)
NOT_YOURS = ("Only the person who captured this quote or a workspace admin can change or "
             "delete it.")
QUOTE_ID_BUTTONS = {"quote_edit", "quote_delete", review.KEEP_ACTION, "voice_full",
                    "voice_share"}


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


def register(app: App, rt: Runtime) -> None:
    services = rt.services

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

    @app.action(review.KEEP_ACTION)
    def keep_as_saved(ack: Ack, action: dict, body: dict, context: BoltContext,
                      respond: Respond, client: WebClient) -> None:
        ack()
        if (quote := changeable(action, body, context, respond, client, "keep")) is None:
            return
        services.edits.keep_as_saved(context.team_id or "", quote.id)
        respond(text="Kept as saved: the quote keeps the words it was saved with.",
                replace_original=True)


def _quote(rt: Runtime, context: BoltContext, action: dict) -> QuoteView | None:
    button = QuoteButton.decode(action.get("value"))
    return rt.services.lookup.get(context.team_id or "", button.quote_id) if button else None
