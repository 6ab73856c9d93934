"""Who said it and where: cached look-ups of Slack users and conversations.

Wraps the Web API calls capture needs (``users.info``, ``conversations.info``,
``chat.getPermalink``) with small TTL caches keyed by team, so a burst of reactions costs
one ``users.info`` per person.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Speaker:
    name: str
    user_id: str | None
    team_id: str | None
    is_bot: bool = False


class Directory:
    def __init__(self, ttl: float = 3600.0) -> None:
        self.ttl = ttl
        self._users: dict[tuple[str, str], tuple[float, Speaker]] = {}
        self._private: dict[tuple[str, str], tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def speaker_of(self, client: WebClient, team_id: str, message: dict) -> Speaker:
        """The person (or integration) who wrote ``message``."""
        user = message.get("user")
        if not user or message.get("bot_id") and not message.get("user"):
            name = (message.get("username") or (message.get("bot_profile") or {}).get("name")
                    or "an integration")
            return Speaker(name=name, user_id=None, team_id=None, is_bot=True)
        return self.user(client, team_id, user)

    def user(self, client: WebClient, team_id: str, user_id: str) -> Speaker:
        key = (team_id, user_id)
        with self._lock:
            hit = self._users.get(key)
            if hit and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        try:
            info = client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            log.warning("users.info failed", extra={"user": user_id,
                                                    "error": exc.response.get("error")})
            return Speaker(name=f"<@{user_id}>", user_id=user_id, team_id=None)
        profile = info.get("profile") or {}
        name = (info.get("real_name") or profile.get("real_name") or profile.get("display_name")
                or info.get("name") or user_id)
        speaker = Speaker(name=name, user_id=user_id,
                          team_id=info.get("team_id") or profile.get("team"),
                          is_bot=bool(info.get("is_bot")))
        with self._lock:
            self._users[key] = (time.monotonic(), speaker)
        return speaker

    def is_private(self, client: WebClient, team_id: str, channel_id: str) -> bool:
        """True for private channels, DMs and group DMs; unknown counts as private."""
        if channel_id.startswith("D"):
            return True
        key = (team_id, channel_id)
        with self._lock:
            hit = self._private.get(key)
            if hit and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        try:
            channel = client.conversations_info(channel=channel_id)["channel"]
            private = bool(channel.get("is_private") or channel.get("is_im")
                           or channel.get("is_mpim"))
        except SlackApiError as exc:
            log.info("conversations.info failed; treating the conversation as private",
                     extra={"channel": channel_id, "error": exc.response.get("error")})
            return True
        with self._lock:
            self._private[key] = (time.monotonic(), private)
        return private

    @staticmethod
    def permalink(client: WebClient, channel_id: str, ts: str) -> str | None:
        try:
            return client.chat_getPermalink(channel=channel_id, message_ts=ts)["permalink"]
        except SlackApiError as exc:
            log.info("chat.getPermalink failed", extra={"channel": channel_id,
                                                        "error": exc.response.get("error")})
            return None
