"""Recall surfaces: `/voice`, @mentions in threads, and the buttons on results.

Every listener acknowledges first; searching runs afterwards on the bounded search pool.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.query import Query, parse_query, topic_problem
from bot.core.usage import SHARED
from bot.slack.digest_settings import digest_command
from bot.slack.listeners.listening import listen_command
from bot.slack.listeners.runtime import BUSY, MAX_DEPTH, PAGE, Runtime, request_channel
from bot.slack.listeners.suggest import suggest_command
from bot.slack.payloads import MorePage, QuoteButton
from bot.slack.views import blocks, evidence
from store.policy import Conversation, postable_in, refusal_for_external, shown_in, visible_in

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def register(app: App, rt: Runtime) -> None:
    @app.command("/voice")
    def voice(ack: Ack, command: dict, respond: Respond, context: BoltContext,
              client: WebClient) -> None:
        text = (command.get("text") or "").strip()
        team_id = context.team_id or command.get("team_id", "")
        if text.lower() in {"", "help", "?", "-h", "--help"}:
            ack(**_reply(blocks.usage(rt.emoji(team_id), team_id)))
            return
        if text.lower().split(" ", 1)[0] == "suggest":
            ack()  # the answer may need Slack look-ups (roles, channel): sent after the ack
            if not rt.background(lambda: respond(**_reply(suggest_command(
                    rt, client, team_id, command.get("user_id", ""),
                    command["channel_id"], text[len("suggest"):])), response_type="ephemeral")):
                _busy(respond)
            return
        if text.lower().split(" ", 1)[0] == "digest":
            ack()  # the answer may need Slack look-ups (roles, channel): sent after the ack
            if not rt.background(lambda: respond(**_reply(digest_command(
                    rt.permissions, rt.services.workspaces, client, team_id,
                    command.get("user_id", ""), text[len("digest"):].strip(),
                    command["channel_id"])), response_type="ephemeral")):
                _busy(respond)
            return
        if text.lower().split(" ", 1)[0] == "listen":
            ack()  # the answer may need Slack look-ups (roles, channel): sent after the ack
            if not rt.background(lambda: respond(**_reply(listen_command(
                    rt, client, team_id, command.get("user_id", ""), command["channel_id"],
                    text[len("listen"):])), response_type="ephemeral")):
                _busy(respond)
            return
        query = parse_query(text, now=rt.services.clock())
        error = _query_error(query)
        if error:
            ack(**_reply(error))
            return
        if rt.answers.busy():  # told in the ack: no queue grows while the server is behind
            ack(**_reply(blocks.message(BUSY)))
            return
        ack()
        channel = command["channel_id"]

        def public() -> bool:
            return not rt.directory.conversation(client, team_id, channel).is_private

        rt.answers.run(team_id, query, blocks.Target(channel),
                       respond=rt.respond_via(command.get("response_url"), respond),
                       user_id=command.get("user_id"), public=public,
                       audience=audience(client, team_id, channel))

    def audience(client: WebClient, team_id: str, channel: str) -> Callable[[], Conversation]:
        """Who reads ``channel``, asked for when the answer is built (after the ack)."""
        return lambda: rt.directory.conversation(client, team_id, channel).audience()

    @app.action("voice_more")
    def more(ack: Ack, action: dict, body: dict, respond: Respond, context: BoltContext,
             client: WebClient) -> None:
        ack()
        channel = request_channel(body)
        page = MorePage.decode(action.get("value"))
        if page is None or channel is None:
            log.warning("malformed voice_more value", extra={"user": _user(body)})
            respond(**_reply(blocks.message("That button is out of date; run `/voice` again.")),
                    response_type="ephemeral", replace_original=False)
            return
        raw, offset = page.query, page.offset
        if not 0 < offset <= MAX_DEPTH - PAGE:
            log.warning("voice_more offset refused", extra={"user": _user(body),
                                                            "offset": str(offset)[:20]})
            respond(**_reply(blocks.message(
                f"I show at most the {MAX_DEPTH} most relevant quotes. Narrow the topic or add "
                "a filter (`/voice help`) to see others.")),
                response_type="ephemeral", replace_original=False)
            return
        query = parse_query(raw, now=rt.services.clock())
        if (error := _query_error(query)) is not None:
            respond(**_reply(error), response_type="ephemeral", replace_original=False)
            return
        team_id = context.team_id or ""
        # Where the results may be shown is the conversation the click came from, never the
        # button's value (a forged value could name a private channel).
        rt.answers.run(team_id, query, blocks.Target(channel),
                       respond=rt.respond_via(body.get("response_url"), respond), offset=offset,
                      user_id=_user(body), replace_original=True,
                      audience=audience(client, team_id, channel))

    @app.action("voice_share")
    def share(ack: Ack, action: dict, body: dict, respond: Respond, context: BoltContext,
              client: WebClient) -> None:
        ack()
        user = _user(body)
        channel = request_channel(body)
        quote_id = _value_id(action.get("value"))
        if quote_id is None or channel is None:
            respond(text="That button is out of date; run `/voice` again.",
                    response_type="ephemeral", replace_original=False)
            return
        team_id = context.team_id or ""
        quote = rt.services.lookup.get(team_id, quote_id)
        if quote is None:
            respond(text="That quote was deleted, so it can't be shared.",
                    response_type="ephemeral", replace_original=False)
            return
        if not visible_in(quote, channel):
            log.warning("share of a private quote refused", extra={"quote_id": quote_id,
                                                                  "user": user})
            respond(text="That quote comes from a private conversation and can only be shared "
                    "there (its capturer can mark it shareable).", response_type="ephemeral",
                    replace_original=False)
            return
        where = rt.directory.conversation(client, team_id, channel).audience()
        own = rt.share_own_org(team_id)
        if not postable_in(quote, where, share_own_org=own):
            log.info("share into an externally shared channel refused",
                     extra={"quote_id": quote_id, "channel": channel})
            respond(text=refusal_for_external(where, share_own_org=own),
                    response_type="ephemeral", replace_original=False)
            return
        thread = (body.get("container") or {}).get("thread_ts")
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
        rt.services.usage.record_use(team_id, [quote_id], SHARED, user, channel,
                                     thread_ts=thread)

    @app.action("voice_full")
    def full(ack: Ack, action: dict, body: dict, respond: Respond, context: BoltContext,
             client: WebClient) -> None:
        ack()
        quote_id = _value_id(action.get("value"))
        channel = request_channel(body)
        team_id = context.team_id or ""
        quote = rt.services.lookup.get(team_id, quote_id) if quote_id else None
        if quote is None or channel is None or not shown_in(
                quote, rt.directory.conversation(client, team_id, channel).audience()):
            if quote is not None:
                log.warning("full text of a quote not visible here refused",
                            extra={"quote_id": quote_id, "user": _user(body)})
            respond(text="That quote is not available here; run `/voice` again.",
                    response_type="ephemeral", replace_original=False)
            return
        if body.get("trigger_id"):
            cited = _cited_where_seen(rt, client, context.team_id or "", quote.id, channel)
            client.views_open(trigger_id=body["trigger_id"],
                              view=blocks.full_quote_modal(quote, mask=rt.mask,
                                                           cited=evidence.cited_line(cited)))

    @app.event("app_mention")
    def mention(event: dict, context: BoltContext, client: WebClient) -> None:
        text = MENTION.sub(" ", event.get("text") or "").strip()
        channel, team_id = event["channel"], context.team_id or ""
        thread = event.get("thread_ts") or event["ts"]

        def post(reply: tuple[str, list[dict]]) -> None:
            client.chat_postMessage(channel=channel, thread_ts=thread, text=reply[0],
                                    blocks=reply[1], unfurl_links=False)

        if text.lower() in {"", "help"}:
            post(blocks.usage(rt.emoji(team_id), team_id))
            return
        conversation = rt.directory.conversation(client, team_id, channel)
        where = conversation.audience()
        if text.lower() == "evidence":
            if not rt.background(lambda: post(_thread_evidence(rt, team_id, where, thread))):
                client.chat_postEphemeral(channel=channel, user=event.get("user", ""),
                                          thread_ts=thread, text=BUSY)
            return
        own = rt.share_own_org(team_id)
        if where.external and not own:
            client.chat_postEphemeral(channel=channel, user=event.get("user", ""),
                                      thread_ts=thread, text=refusal_for_external(
                                          where, share_own_org=own))
            return
        query = parse_query(text, now=rt.services.clock())
        error = _query_error(query)
        if error:
            post(error)
            return
        rt.answers.run(team_id, query, blocks.Target(channel, thread), post=post,
                       user_id=event.get("user"), posted_in=where,
                       public=lambda: not conversation.is_private)


def _thread_evidence(rt: Runtime, team_id: str, where: Conversation,
                     thread: str) -> tuple[str, list[dict]]:
    """The thread's evidence, re-checked: a quote is listed only if it may still be posted
    here (made private since, or from another organisation: left out)."""
    own = rt.share_own_org(team_id)
    items = [(view, cited) for view, cited in rt.services.usage.thread_evidence(
        team_id, where.channel_id or "", thread)
        if visible_in(view, where.channel_id) and postable_in(view, where, share_own_org=own)]
    return evidence.thread_evidence(items, mask=rt.mask)


def _cited_where_seen(rt: Runtime, client: WebClient, team_id: str, quote_id: int,
                      viewer_channel: str) -> list[evidence.Cited]:
    """Where a quote was cited, limited to conversations the viewer can see: the one they
    are in, and public channels of the workspace. Private ones are left out entirely."""
    seen: list[evidence.Cited] = []
    for c in rt.services.usage.citations(team_id, quote_id)[:20]:
        if c.channel_id != viewer_channel and \
                rt.directory.conversation(client, team_id, c.channel_id).is_private:
            continue
        link = rt.directory.permalink(client, c.channel_id, c.thread_ts) \
            if c.thread_ts and len(seen) < 5 else None
        seen.append(evidence.Cited(c.channel_id, c.at, link))
    return seen


def _user(body: dict) -> str:
    return str((body.get("user") or {}).get("id", ""))


def _value_id(value: object) -> int | None:
    button = QuoteButton.decode(value)
    return button.quote_id if button else None


def _query_error(query: Query) -> tuple[str, list[dict]] | None:
    if query.problems:
        return blocks.problems(query.problems)
    if not query.topic and not query.filters:
        return blocks.message("Give me a topic, like `/voice export is slow`.")
    if query.topic and (problem := topic_problem(query.topic)):
        return blocks.message(problem)
    return None


def _reply(reply: tuple[str, list[dict]]) -> dict:
    return {"text": reply[0], "blocks": reply[1]}


def _busy(respond: Respond) -> None:
    respond(**_reply(blocks.message(BUSY)), response_type="ephemeral", replace_original=False)
