"""App Home: counts, recent quotes, and the workspace's settings (edited in a modal)."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import blocks
from bot.listeners.runtime import Runtime
from bot.query import parse_query
from bot.services import workspace_stats
from store.errors import InvalidQuote

log = logging.getLogger(__name__)
SETTINGS_CALLBACK = "workspace_settings_modal"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def home_view(stats, recent, settings, *, mask: bool) -> dict:  # type: ignore[no-untyped-def]
    """Pure: the Home tab for one user (only quotes visible outside private conversations)."""
    digest = (f"<#{settings.digest_channel}>, {DAYS[settings.digest_weekday]}s at "
              f"{settings.digest_time} ({settings.digest_timezone})"
              if settings.digest_channel else "off (choose a channel to turn it on)")
    out: blocks.Blocks = [
        {"type": "header", "text": blocks.plain("User voices in this workspace", 150)},
        blocks.mrkdwn_section(
            f"*{stats.quotes}* quotes from *{stats.people}* people at *{stats.companies}* "
            f"companies \u00b7 *{stats.this_week}* new in the last 7 days"),
        blocks.context(f"Capture: react with :{settings.capture_emoji}: or use *Save as user "
                       f"voice* on a message. Recall: `/voice <topic>`."),
        {"type": "divider"},
        blocks.mrkdwn_section("*Settings*\n"
                              f"Capture emoji: :{settings.capture_emoji}: "
                              f"`{settings.capture_emoji}`\nWeekly digest: {digest}"),
        *([blocks.mrkdwn_section(f":warning: *Digest problem:* {settings.digest_problem}")]
          if settings.digest_problem else []),
        {"type": "actions", "elements": [blocks.button("Edit settings", "home_settings",
                                                       settings.team_id)]},
        {"type": "divider"},
        blocks.mrkdwn_section("*Recently captured*" if recent else
                              "*Nothing captured yet.* React to a user's message with "
                              f":{settings.capture_emoji}: to start."),
    ]
    for hit in recent[:8]:
        body, _ = blocks.quoted(hit.quote.text, limit=300, link=hit.quote.source_url, mask=mask)
        out.extend([blocks.mrkdwn_section(body), blocks.context(blocks.attribution(hit.quote))])
    return {"type": "home", "blocks": out[:100]}


def settings_modal(settings) -> dict:  # type: ignore[no-untyped-def]
    days = [{"text": blocks.plain(d), "value": str(i)} for i, d in enumerate(DAYS)]
    channel_el: dict = {"type": "conversations_select", "action_id": "value",
                        "filter": {"include": ["public", "private"],
                                   "exclude_bot_users": True}}
    if settings.digest_channel:
        channel_el["initial_conversation"] = settings.digest_channel

    def text_input(block_id: str, label: str, value: str, hint: str) -> dict:
        return {"type": "input", "block_id": block_id, "label": blocks.plain(label),
                "hint": blocks.plain(hint, 150),
                "element": {"type": "plain_text_input", "action_id": "value",
                            "initial_value": value, "max_length": 100}}

    return {"type": "modal", "callback_id": SETTINGS_CALLBACK,
            "title": blocks.plain("voicebot settings", 24), "submit": blocks.plain("Save"),
            "close": blocks.plain("Cancel"), "private_metadata": settings.team_id,
            "blocks": [
                text_input("emoji", "Capture emoji", settings.capture_emoji,
                           "The emoji name, without colons (e.g. loudspeaker)"),
                {"type": "input", "block_id": "channel", "optional": True,
                 "label": blocks.plain("Weekly digest channel (empty = off)"),
                 "element": channel_el},
                {"type": "input", "block_id": "day", "label": blocks.plain("Digest day"),
                 "element": {"type": "static_select", "action_id": "value", "options": days,
                             "initial_option": days[settings.digest_weekday]}},
                text_input("time", "Digest time (24h)", settings.digest_time, "e.g. 09:30"),
                text_input("tz", "Time zone", settings.digest_timezone, "e.g. Europe/Paris"),
            ]}


def register(app: App, rt: Runtime) -> None:
    services = rt.services

    def publish(client: WebClient, team_id: str, user_id: str) -> None:
        settings = services.workspaces.get(team_id)
        stats = workspace_stats(services.sessions, team_id, services.clock())
        recent = services.search.search(team_id, parse_query(""), limit=8,
                                        channel_id="__app_home__").hits
        client.views_publish(user_id=user_id, view=home_view(stats, recent, settings,
                                                             mask=rt.mask))

    @app.event("app_home_opened")
    def opened(event: dict, context: BoltContext, client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish(client, context.team_id or "", event["user"])

    @app.action("home_settings")
    def open_settings(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        ack()
        settings = services.workspaces.get(context.team_id or "")
        client.views_open(trigger_id=body["trigger_id"], view=settings_modal(settings))

    @app.view(SETTINGS_CALLBACK)
    def save_settings(ack: Ack, body: dict, view: dict, context: BoltContext,
                      client: WebClient) -> None:
        values = view.get("state", {}).get("values", {})

        def get(block: str, key: str = "value"):  # type: ignore[no-untyped-def]
            return (values.get(block, {}).get("value") or {}).get(key)

        day = (get("day", "selected_option") or {}).get("value", "0")
        changes = {"capture_emoji": get("emoji") or "", "digest_channel":
                   get("channel", "selected_conversation"), "digest_weekday": int(day),
                   "digest_time": (get("time") or "").strip(),
                   "digest_timezone": (get("tz") or "").strip()}
        team_id = context.team_id or ""
        try:
            services.workspaces.update(team_id, **changes)
        except InvalidQuote as exc:
            field = {"capture": "emoji", "time zone": "tz", "time of day": "time"}
            block = next((b for k, b in field.items() if k in str(exc)), "emoji")
            ack(response_action="errors", errors={block: str(exc).replace("`", "")})
            return
        ack()
        publish(client, team_id, body["user"]["id"])
