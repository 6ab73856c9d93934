"""manifest.json matches what the app registers: commands, shortcuts, events, scopes."""

from __future__ import annotations

import json
from pathlib import Path

from slack_bolt import App

from bot.config import Settings
from bot.slack.app import create_app

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = json.loads((ROOT / "manifest.json").read_text())

# Web API methods the bot calls, and the scope each needs.
METHOD_SCOPES = {
    "chat.postMessage": "chat:write", "chat.postEphemeral": "chat:write",
    "reactions.get": "reactions:read", "users.info": "users:read",
    "conversations.info": "channels:read", "views.open": None, "views.publish": None,
    "chat.getPermalink": None, "auth.test": None, "team.info": "team:read",
}
EVENT_SCOPES = {"reaction_added": "reactions:read", "app_mention": "app_mentions:read",
                "message.channels": "channels:history", "message.groups": "groups:history",
                "message.im": "im:history", "message.mpim": "mpim:history",
                "app_home_opened": None, "app_uninstalled": None, "tokens_revoked": None,
                "channel_converted_to_private": "channels:read",
                "channel_shared": "channels:read", "channel_unshared": "channels:read"}


def registered(app: App) -> dict[str, set[str]]:
    """What the app's listeners match, read from their matchers' source."""
    import inspect

    found: dict[str, set[str]] = {"commands": set(), "shortcuts": set(), "events": set()}
    for listener in app._listeners:
        for matcher in listener.matchers:
            func = getattr(matcher, "func", None)
            closure = inspect.getclosurevars(func) if func else None
            if closure is None:
                continue
            values = dict(closure.nonlocals)
            name = func.__qualname__
            if name.startswith("command."):
                found["commands"].add(values["command"])
            elif name.startswith("shortcut."):
                found["shortcuts"].add(values["callback_id"])
            elif name.startswith("event."):
                c = values.get("constraints") or values.get("event_type")
                event_type = c.get("type") if isinstance(c, dict) else c
                if isinstance(event_type, str):
                    found["events"].add(event_type)
    return found


def test_manifest_lists_every_registered_surface(tmp_path: Path) -> None:
    from bot.container import build_services
    from store.retrieval.embeddings import HashingEmbedder

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}",
                        slack_bot_token="xoxb-test-token", slack_signing_secret="s3cret-value")
    services = build_services(settings, embedder=HashingEmbedder())
    app = create_app(settings, services)
    surfaces = registered(app)
    features = MANIFEST["features"]
    assert surfaces["commands"] == {c["command"] for c in features["slash_commands"]}
    assert surfaces["shortcuts"] == {s["callback_id"] for s in features["shortcuts"]
                                     if s["type"] == "message"}
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    expected = {("message." + k) if e == "message" else e for e in surfaces["events"]
                for k in (["channels", "groups", "im", "mpim"] if e == "message" else [""])}
    assert {e.rstrip(".") for e in expected} == events
    services.close()


def test_manifest_scopes_cover_methods_and_events() -> None:
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    events = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    needed = {s for s in METHOD_SCOPES.values() if s} | {EVENT_SCOPES[e] for e in events
                                                         if EVENT_SCOPES[e]}
    needed |= {"commands"}
    assert needed <= scopes, f"missing scopes: {needed - scopes}"
    assert "chat:write.public" in scopes  # digests post without joining
    from bot.slack.app import BOT_SCOPES

    assert set(BOT_SCOPES) == scopes  # what OAuth installs ask for


def test_manifest_usage_hint_and_modes() -> None:
    command = MANIFEST["features"]["slash_commands"][0]
    assert command["usage_hint"] and command["url"].endswith("/slack/events")
    assert MANIFEST["settings"]["interactivity"]["is_enabled"]
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
