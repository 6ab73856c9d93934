"""Evidence offered where it is argued: `/voice suggest [here|off]`, the check on new
messages in channels that turned it on, and the offer's buttons.

A message that speaks for users (:mod:`bot.core.claims`) gets its author one ephemeral
offer in the thread when the evidence is strong (:mod:`bot.core.suggest`). Never on bots'
messages, never in channels shared with other organisations, never a quote the policy would
not show there. The buttons act for the person the offer was made to, in the conversation
it was made in; both come from the stored offer and the request, never from the value.
"""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.claims import find_claim
from bot.core.usage import SHARED
from bot.slack.listeners.capture import is_placeholder
from bot.slack.listeners.runtime import BUSY, Runtime, request_channel
from bot.slack.payloads import OfferButton
from bot.slack.views import blocks, offers
from store.errors import DatabaseUnavailable
from store.policy import postable_in, visible_in

log = logging.getLogger(__name__)
Reply = tuple[str, list[dict]]
#: New messages that carry a person's own words (edits, joins, bots... never trigger).
NEW_WORDS_SUBTYPES = (None, "thread_broadcast", "file_share")
SHARED_QUOTES = 3  # quotes "Share in thread" posts


def suggest_command(rt: Runtime, client: WebClient, team_id: str, user: str, channel: str,
                    args: str) -> Reply:
    """The reply to `/voice suggest [here|on|off]` in ``channel``."""
    word = args.strip().lower()
    service = rt.services.suggestions
    try:
        if word == "":
            state = service.state(team_id, channel)
            return offers.status(channel, state.enabled, state.changed_by, state.changed_at,
                                 service.counts(team_id))
        if word not in {"here", "on", "off"}:
            return blocks.message(f"I don't know `suggest {blocks.escape(args.strip()[:50])}`. "
                                  f"{offers.USAGE}")
        if channel.startswith("D"):
            return blocks.message("Evidence offers work in channels, not in direct messages.")
        allowed, who = rt.permissions.settings(client, team_id, user)
        if not allowed:
            log.warning("suggest change refused", extra={"team": team_id, "user": user})
            return blocks.message(f"Only {who} can turn evidence offers on or off. "
                                  "`/voice suggest` shows whether they are on here.")
        on = word != "off"
        if on and rt.directory.conversation(client, team_id, channel).external:
            return blocks.message("Evidence offers are never made in channels shared with "
                                  "other organisations: your users' words stay inside.")
        already = service.state(team_id, channel).enabled == on
        if not already:
            service.turn(team_id, channel, on, by=user)
        log.info("suggest turned", extra={"team": team_id, "channel": channel, "on": on})
        return offers.turned(channel, on, already)
    except DatabaseUnavailable:
        return blocks.message("My database is unavailable right now. Please try again in a "
                              "minute.")


def consider(rt: Runtime, client: WebClient, team_id: str, event: dict) -> None:
    """A new message: when it speaks for users in a channel that asked for offers, and the
    evidence is strong, offer its author the users' words (ephemeral, in the thread)."""
    channel, ts, user = event.get("channel"), event.get("ts"), event.get("user")
    text = str(event.get("text") or "")
    if (not channel or not ts or not user or event.get("bot_id") or event.get("hidden")
            or event.get("app_id") or is_placeholder(event)
            or event.get("subtype") not in NEW_WORDS_SUBTYPES or find_claim(text) is None):
        return
    try:
        if not rt.services.suggestions.state(team_id, channel).enabled:
            return
    except DatabaseUnavailable:
        return
    rt.background(_offer, rt, client, team_id, str(channel), str(ts), str(user), text,
                  event.get("thread_ts"))


def _offer(rt: Runtime, client: WebClient, team_id: str, channel: str, ts: str, user: str,
           text: str, thread_ts: str | None) -> None:
    conversation = rt.directory.conversation(client, team_id, channel)
    if conversation.external:
        log.info("no offer in a channel shared with another organisation",
                 extra={"channel": channel})
        return
    if rt.directory.user(client, team_id, user).is_bot:
        return
    thread = thread_ts or ts
    proposal = rt.services.suggestions.consider(team_id, channel, thread, user, text)
    if proposal is None:
        return
    reply_text, reply_blocks = offers.offer(proposal.offer.id, proposal.claim.topic,
                                            proposal.result)
    try:
        client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread,
                                  text=reply_text, blocks=reply_blocks)
    except SlackApiError as exc:
        log.warning("offer not delivered", extra={"channel": channel,
                                                  "error": exc.response.get("error")})
        return
    log.info("evidence offered", extra={"team": team_id, "channel": channel,
                                        "offer": proposal.offer.id,
                                        "matches": proposal.offer.matches})


def register(app: App, rt: Runtime) -> None:
    services = rt.services

    def offer_for(action: dict, body: dict, context: BoltContext,
                  respond: Respond) -> tuple[str, str, offers.Offer] | None:
        """The stored offer a click is about, if the clicker is its person, in its
        conversation; else a clear refusal."""
        button = OfferButton.decode(action.get("value"))
        channel = request_channel(body)
        user = str((body.get("user") or {}).get("id", ""))
        team_id = context.team_id or ""
        offer = services.suggestions.offer(team_id, button.offer_id) if button else None
        if offer is None or channel is None:
            respond(text="That offer is out of date; use `/voice <topic>` instead.",
                    response_type="ephemeral", replace_original=False)
            return None
        if offer.user_id != user or offer.channel_id != channel:
            log.warning("offer button from someone else or elsewhere refused",
                        extra={"offer": offer.id, "user": user})
            respond(text="That offer was made to someone else; use `/voice <topic>` to see "
                    "users' words yourself.", response_type="ephemeral",
                    replace_original=False)
            return None
        return team_id, user, offer

    @app.action(offers.SHOW)
    def show(ack: Ack, action: dict, body: dict, context: BoltContext,
             respond: Respond) -> None:
        ack()
        found = offer_for(action, body, context, respond)
        if found is None:
            return
        team_id, user, offer = found
        rt.answers.run(team_id, services.suggestions.query_for(offer.topic),
                       blocks.Target(offer.channel_id, offer.thread_ts), respond=respond,
                       user_id=user, replace_original=True)
        services.suggestions.record_outcome(offer.id, "shown")

    @app.action(offers.SHARE)
    def share(ack: Ack, action: dict, body: dict, context: BoltContext, respond: Respond,
              client: WebClient) -> None:
        ack()
        found = offer_for(action, body, context, respond)
        if found is None:
            return
        team_id, user, offer = found
        if not rt.background(_share, rt, client, respond, team_id, user, offer):
            respond(text=BUSY, response_type="ephemeral", replace_original=False)

    @app.action(offers.NOT_HELPFUL)
    def not_helpful(ack: Ack, action: dict, body: dict, context: BoltContext,
                    respond: Respond) -> None:
        ack()
        found = offer_for(action, body, context, respond)
        if found is None:
            return
        services.suggestions.record_outcome(found[2].id, "not_helpful")
        log.info("offer marked not helpful", extra={"offer": found[2].id})
        text, reply = offers.thanks()
        respond(text=text, blocks=reply, response_type="ephemeral", replace_original=True)


def _share(rt: Runtime, client: WebClient, respond: Respond, team_id: str, user: str,
           offer: offers.Offer) -> None:
    """Post the offer's top quotes into its thread, each re-checked against the policy."""
    services = rt.services
    where = rt.directory.conversation(client, team_id, offer.channel_id).audience()
    own = rt.share_own_org(team_id)
    result = services.search.search(team_id, services.suggestions.query_for(offer.topic),
                                    limit=5, channel_id=offer.channel_id)
    chosen = [h.quote for h in result.hits
              if visible_in(h.quote, offer.channel_id)
              and postable_in(h.quote, where, share_own_org=own)][:SHARED_QUOTES]
    if not chosen:
        respond(text="None of those quotes may be posted here any more.",
                response_type="ephemeral", replace_original=True)
        return
    posted = []
    for quote in chosen:
        text, msg_blocks = blocks.shared_quote(quote, user, mask=rt.mask)
        try:
            client.chat_postMessage(channel=offer.channel_id, thread_ts=offer.thread_ts,
                                    text=text, blocks=msg_blocks, unfurl_links=False)
        except SlackApiError as exc:
            respond(text=rt.explain_post_error(exc.response.get("error"), offer.channel_id),
                    response_type="ephemeral", replace_original=False)
            break
        posted.append(quote.id)
    if posted:
        services.usage.record_use(team_id, posted, SHARED, user, offer.channel_id,
                                  thread_ts=offer.thread_ts)
        services.suggestions.record_outcome(offer.id, "shared")
        respond(text=f"Shared {len(posted)} user quote{'s' * (len(posted) != 1)} in the "
                "thread. `@voicebot evidence` lists them later.", response_type="ephemeral",
                replace_original=True)

