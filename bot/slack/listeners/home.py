"""App Home: counts, recent quotes, and the workspace's settings (edited in a modal)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.core.query import parse_query
from bot.core.stats import workspace_stats
from bot.slack.digest_settings import digest_channel_problem
from bot.slack.listeners.runtime import Runtime
from bot.slack.payloads import SETTINGS_BUTTON, SETTINGS_FORM
from bot.slack.views import blocks
from bot.slack.views import listening as listening_views
from bot.slack.views.offers import home_lines
from store.errors import InvalidQuote
from store.policy import APP_HOME

if TYPE_CHECKING:
    from bot.core.search import QuoteHit
    from store.queries.stats import Stats
    from store.queries.workspaces import WorkspaceSettings

log = logging.getLogger(__name__)
SETTINGS_CALLBACK = "workspace_settings_modal"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def home_view(stats: Stats, recent: Sequence[QuoteHit], settings: WorkspaceSettings, *,
              mask: bool, can_edit: bool = True,
              who_can: str = "workspace admins and owners",
              offers_line: str | None = None,
              listening: Sequence[str] = ()) -> dict:
    """Pure: the Home tab for one user (only quotes visible outside private conversations).
    The settings button is there only for those who may change settings; ``listening``:
    the channels where listening is on."""
    digest = (f"<#{settings.digest_channel}>, {DAYS[settings.digest_weekday]}s at "
              f"{settings.digest_time} ({settings.digest_timezone})"
              if settings.digest_channel else
              "*off*. Turn it on with *Set up the weekly digest*, or type "
              "`/voice digest here monday 09:00 Europe/Paris` in the channel that should "
              "get it")
    companies = (f" at *{stats.companies}* compan{'y' if stats.companies == 1 else 'ies'}"
                 if stats.companies else "")
    buttons = [blocks.button("Edit settings", "home_settings", SETTINGS_BUTTON)]
    if not settings.digest_channel:
        buttons.insert(0, blocks.button("Set up the weekly digest", "home_digest_setup",
                                        SETTINGS_BUTTON, style="primary"))
    out: blocks.Blocks = [
        {"type": "header", "text": blocks.plain("User voices in this workspace", 150)},
        blocks.mrkdwn_section(
            f"*{stats.quotes}* quotes from *{stats.people}* people{companies} "
            f"\u00b7 *{stats.this_week}* new in the last 7 days"),
        blocks.context(f"Capture: react with :{settings.capture_emoji}: or use *Save as user "
                       f"voice* on a message. Recall: `/voice <topic>`."),
        {"type": "divider"},
        blocks.mrkdwn_section("*Settings*\n"
                              f"Capture emoji: :{settings.capture_emoji}: "
                              f"`{settings.capture_emoji}`\nWeekly digest: {digest}"),
        *([blocks.mrkdwn_section(f":warning: *Digest problem:* {settings.digest_problem}")]
          if settings.digest_problem else []),
        *([blocks.mrkdwn_section(offers_line)] if offers_line else []),
        ({"type": "actions", "elements": buttons}
         if can_edit else blocks.context(f"Only {who_can} can change these settings.")),
        blocks.context(f"Workspace id `{settings.team_id}`: pass it to "
                       f"`voicebot import --team {settings.team_id}` to import notes or "
                       "tickets here."),
        *listening_views.home_section(listening),
        {"type": "divider"},
        blocks.mrkdwn_section("*Recently captured*" if recent else
                              "*Nothing captured yet.* React to a user's message with "
                              f":{settings.capture_emoji}: to start."),
    ]
    for hit in recent[:8]:
        body, _ = blocks.quoted(hit.quote.text, limit=300, link=hit.quote.source_url, mask=mask)
        out.extend([blocks.mrkdwn_section(body), blocks.context(blocks.attribution(hit.quote))])
    return {"type": "home", "blocks": out[:100]}


def settings_modal(settings: WorkspaceSettings, *, admin: bool = False) -> dict:
    """The settings form; who may change settings, and Slack Connect sharing, are offered
    to workspace admins and owners only."""
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
            "close": blocks.plain("Cancel"), "private_metadata": SETTINGS_FORM,
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
                text_input("stale", "Evidence is old after (months)",
                           str(settings.stale_months),
                           "When every quote on a topic is older, /voice says so"),
                *(admin_blocks(settings) if admin else []),
            ]}


def admin_blocks(settings: WorkspaceSettings) -> list[dict]:
    roles = [{"text": blocks.plain(text), "value": value} for value, text in (
        ("admins", "Workspace admins and owners"), ("owners", "Workspace owners only"),
        ("everyone", "Every full member"))]
    share = [{"text": blocks.plain("Allow sharing a partner's own people's quotes"),
              "description": blocks.plain("In channels shared with another organisation, "
                                          "Share and @mentions may post quotes whose speaker "
                                          "belongs to that organisation. Off: nothing is "
                                          "posted there.", 150),
              "value": "on"}]
    connect: dict = {"type": "checkboxes", "action_id": "value", "options": share}
    if settings.connect_share_own:
        connect["initial_options"] = share
    return [
        {"type": "input", "block_id": "role", "label": blocks.plain("Who can change settings"),
         "element": {"type": "static_select", "action_id": "value", "options": roles,
                     "initial_option": next(r for r in roles
                                            if r["value"] == settings.settings_role)}},
        {"type": "input", "block_id": "connect", "optional": True,
         "label": blocks.plain("Slack Connect channels"), "element": connect},
    ]


def register(app: App, rt: Runtime) -> None:
    services = rt.services

    def publish(client: WebClient, team_id: str, user_id: str) -> None:
        settings = services.workspaces.get(team_id)
        stats = workspace_stats(services.sessions, team_id, services.clock())
        recent = services.search.search(team_id, parse_query(""), limit=8,
                                        channel_id=APP_HOME).hits
        allowed, who = rt.permissions.settings(client, team_id, user_id)
        offers_line = home_lines(services.suggestions.channels(team_id),
                                 services.suggestions.counts(team_id))
        client.views_publish(user_id=user_id, view=home_view(
            stats, recent, settings, mask=rt.mask, can_edit=allowed, who_can=who,
            offers_line=offers_line,
            listening=services.listening.channels(team_id)))

    @app.event("app_home_opened")
    def opened(event: dict, context: BoltContext, client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish(client, context.team_id or "", event["user"])

    @app.action("home_settings")
    def open_settings(ack: Ack, body: dict, context: BoltContext, client: WebClient) -> None:
        ack()
        team_id, user = context.team_id or "", body.get("user", {}).get("id", "")
        allowed, who = rt.permissions.settings(client, team_id, user)
        if not allowed:
            log.warning("settings change refused", extra={"team": team_id, "user": user})
            client.views_open(trigger_id=body["trigger_id"], view={
                "type": "modal", "title": blocks.plain("voicebot settings", 24),
                "close": blocks.plain("Close"),
                "blocks": [blocks.mrkdwn_section(f"Only {who} can change voicebot's settings. "
                                                 "Ask one of them.")]})
            return
        settings = services.workspaces.get(team_id)
        admin = rt.permissions.member(client, team_id, user).is_admin_or_owner
        client.views_open(trigger_id=body["trigger_id"],
                          view=settings_modal(settings, admin=admin))

    app.action("home_digest_setup")(open_settings)  # the same form, from the digest's button

    @app.view(SETTINGS_CALLBACK)
    def save_settings(ack: Ack, body: dict, view: dict, context: BoltContext,
                      client: WebClient) -> None:
        values = view.get("state", {}).get("values", {})
        team_id, user = context.team_id or "", body.get("user", {}).get("id", "")

        def get(block: str, key: str = "value") -> Any:
            return (values.get(block, {}).get("value") or {}).get(key)

        allowed, who = rt.permissions.settings(client, team_id, user)
        if not allowed:  # checked again: the form may be forged or the role changed
            log.warning("settings change refused", extra={"team": team_id, "user": user})
            ack(response_action="errors", errors={"emoji": f"Only {who} can change these "
                                                  "settings."})
            return
        day = (get("day", "selected_option") or {}).get("value", "0")
        changes: dict[str, object] = {
            "capture_emoji": get("emoji") or "",
            "digest_channel": get("channel", "selected_conversation"),
            "digest_weekday": int(day) if str(day).isdigit() else -1,
            "digest_time": (get("time") or "").strip(),
            "digest_timezone": (get("tz") or "").strip()}
        if "stale" in values:
            stale = (get("stale") or "").strip()
            changes["stale_months"] = int(stale) if stale.isdigit() else -1
        if "role" in values or "connect" in values:
            if not rt.permissions.member(client, team_id, user).is_admin_or_owner:
                ack(response_action="errors", errors={"role": "Only workspace admins and "
                                                      "owners choose who changes settings."})
                return
            role = (get("role", "selected_option") or {}).get("value")
            if role is not None:
                changes["settings_role"] = role
            changes["connect_share_own"] = bool(get("connect", "selected_options"))
        channel = changes["digest_channel"]
        problem = digest_channel_problem(rt.directory, client, team_id,
                                         channel if isinstance(channel, str) else None)
        if problem:
            ack(response_action="errors", errors={"channel": problem})
            return
        try:
            services.workspaces.update(team_id, **changes)
        except InvalidQuote as exc:
            field = {"capture": "emoji", "time zone": "tz", "time of day": "time",
                     "weekday": "day", "role": "role", "old evidence": "stale"}
            block = next((b for k, b in field.items() if k in str(exc)), "emoji")
            ack(response_action="errors", errors={block: str(exc).replace("`", "")})
            return
        ack()
        publish(client, team_id, user)
