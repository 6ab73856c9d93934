"""Recall surfaces: `/voice`, @mentions in threads, and the buttons on results.

Every listener acknowledges first; searching runs afterwards on the bounded search pool.
"""

from __future__ import annotations

import json
import logging
import re

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks
from bot.listeners.runtime import Runtime
from bot.query import parse_query, topic_problem

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def register(app: App, rt: Runtime) -> None:
    @app.command("/voice")
    def voice(ack: Ack, command: dict, respond: Respond, context: BoltContext) -> None:
        text = (command.get("text") or "").strip()
        team_id = context.team_id or command.get("team_id", "")
        emoji = rt.emoji(team_id)
        if text.lower() in {"", "help", "?", "-h", "--help"}:
            ack(**_reply(blocks.usage(emoji)))
            return
        if text.lower().split(" ", 1)[0] == "digest":
            ack(**_reply(rt.digest_command(team_id, text[len("digest"):].strip(),
                                           command["channel_id"])))
            return
        query = parse_query(text, now=rt.services.clock())
        error = _query_error(query)
        if error:
            ack(**_reply(error))
            return
        ack()
        target = blocks.Target(command["channel_id"])
        rt.run_search(team_id, query, target, respond=respond, user_id=command.get("user_id"))

    @app.action("voice_more")
    def more(ack: Ack, action: dict, body: dict, respond: Respond, context: BoltContext) -> None:
        ack()
        try:
            value = json.loads(action["value"])
            query, offset = parse_query(str(value["q"]), now=rt.services.clock()), int(value["o"])
            target = blocks.Target(str(value["c"]), value.get("t"))
        except (KeyError, ValueError, TypeError):
            log.warning("malformed voice_more value", extra={"value": action.get("value")})
            respond(**_reply(blocks.message("That button is out of date; run `/voice` again.")),
                    response_type="ephemeral", replace_original=False)
            return
        team_id = context.team_id or body.get("team", {}).get("id", "")
        rt.run_search(team_id, query, target, respond=respond, offset=offset,
                      user_id=body.get("user", {}).get("id"), replace_original=True)

    @app.action("voice_share")
    def share(ack: Ack, action: dict, body: dict, respond: Respond, context: BoltContext,
              client: WebClient) -> None:
        ack()
        user = body.get("user", {}).get("id", "")
        try:
            value = json.loads(action["value"])
            quote_id, channel, thread = int(value["id"]), str(value["c"]), value.get("t")
        except (KeyError, ValueError, TypeError):
            respond(text="That button is out of date; run `/voice` again.",
                    response_type="ephemeral", replace_original=False)
            return
        team_id = context.team_id or ""
        quote = rt.services.quotes.get(team_id, quote_id)
        if quote is None:
            respond(text="That quote was deleted, so it can't be shared.",
                    response_type="ephemeral", replace_original=False)
            return
        if quote.is_private and not quote.shareable and quote.channel_id != channel:
            respond(text="That quote comes from a private conversation and can only be shared "
                    "there (its capturer can mark it shareable).", response_type="ephemeral",
                    replace_original=False)
            return
        text, msg_blocks = blocks.shared_quote(quote, user, mask=rt.mask)
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread, text=text,
                                    blocks=msg_blocks, unfurl_links=False)
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("share failed", extra={"channel": channel, "error": error})
            respond(text=rt.explain_post_error(error, channel), response_type="ephemeral",
                    replace_original=False)
            return
        rt.services.quotes.record_use(team_id, [quote_id], "shared", user, channel)

    @app.action("voice_full")
    def full(ack: Ack, action: dict, body: dict, context: BoltContext,
             client: WebClient) -> None:
        ack()
        try:
            quote = rt.services.quotes.get(context.team_id or "", int(action["value"]))
        except (KeyError, ValueError):
            return
        if quote is not None and body.get("trigger_id"):
            client.views_open(trigger_id=body["trigger_id"],
                              view=blocks.full_quote_modal(quote, mask=rt.mask))

    @app.event("app_mention")
    def mention(event: dict, context: BoltContext, client: WebClient) -> None:
        text = MENTION.sub(" ", event.get("text") or "").strip()
        channel, team_id = event["channel"], context.team_id or ""
        thread = event.get("thread_ts") or event["ts"]

        def post(reply: tuple[str, list[dict]]) -> None:
            client.chat_postMessage(channel=channel, thread_ts=thread, text=reply[0],
                                    blocks=reply[1], unfurl_links=False)

        if text.lower() in {"", "help"}:
            post(blocks.usage(rt.emoji(team_id)))
            return
        query = parse_query(text, now=rt.services.clock())
        error = _query_error(query)
        if error:
            post(error)
            return
        rt.run_search(team_id, query, blocks.Target(channel, thread), post=post,
                      user_id=event.get("user"))


def _query_error(query) -> tuple[str, list[dict]] | None:  # type: ignore[no-untyped-def]
    if query.problems:
        return blocks.problems(query.problems)
    if not query.topic and not query.filters:
        return blocks.message("Give me a topic, like `/voice export is slow`.")
    if query.topic and (problem := topic_problem(query.topic)):
        return blocks.message(problem)
    return None


def _reply(reply: tuple[str, list[dict]]) -> dict:
    return {"text": reply[0], "blocks": reply[1]}
