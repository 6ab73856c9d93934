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

from store.policy import Conversation, Member

log = logging.getLogger(__name__)
#: Entries kept per cache (people, conversations, roles): look-ups expire by time, and an
#: expired entry is replaced only when asked for again, so without a bound the caches
#: would hold every person and conversation ever seen for the life of the process.
MAX_ENTRIES = 5_000


@dataclass(frozen=True)
class Speaker:
    name: str
    user_id: str | None
    team_id: str | None
    is_bot: bool = False


@dataclass(frozen=True)
class Channel:
    """What the bot knows about who reads a conversation."""

    channel_id: str
    is_private: bool
    external: bool = False  # shared with another organisation (Slack Connect)
    external_teams: frozenset[str] = frozenset()
    known: bool = True  # False: Slack would not describe it (treated as private and shared)

    def audience(self) -> Conversation:
        return Conversation(self.channel_id, external_teams=self.external_teams,
                            external=self.external)


class Directory:
    def __init__(self, ttl: float = 3600.0, channel_ttl: float = 300.0,
                 member_ttl: float = 60.0, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl  # names change rarely
        self.channel_ttl = channel_ttl  # privacy and sharing: minutes, not an hour
        self.member_ttl = member_ttl
        self.max_entries = max_entries
        self._users: dict[tuple[str, str], tuple[float, Speaker]] = {}
        self._channels: dict[tuple[str, str], tuple[float, Channel]] = {}
        self._members: dict[tuple[str, str], tuple[float, Member]] = {}
        self._orgs: dict[tuple[str, str], tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def _put(self, cache: dict, key: tuple[str, str], value: object, ttl: float) -> None:
        """Store ``value`` (newest last); past ``max_entries``, drop the expired entries,
        then the oldest. Call with the lock held."""
        now = time.monotonic()
        cache.pop(key, None)
        cache[key] = (now, value)
        if len(cache) > self.max_entries:
            for old in [k for k, (at, _) in cache.items() if now - at >= ttl]:
                del cache[old]
            while len(cache) > self.max_entries:
                del cache[next(iter(cache))]

    def cached(self) -> int:
        """Entries held in all caches (for tests and diagnostics)."""
        with self._lock:
            return (len(self._users) + len(self._channels) + len(self._members)
                    + len(self._orgs))

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
            self._put(self._users, key, speaker, self.ttl)
        return speaker

    def conversation(self, client: WebClient, team_id: str, channel_id: str) -> Channel:
        """Who reads ``channel_id``: private or not, and other organisations in it.

        A conversation Slack will not describe counts as private and as shared outside: the
        safe guess for both. Cached for a few minutes; the channel events
        (``channel_shared``, ``channel_converted_to_private``...) drop the cache entry.
        """
        key = (team_id, channel_id)
        with self._lock:
            hit = self._channels.get(key)
            if hit and time.monotonic() - hit[0] < self.channel_ttl:
                return hit[1]
        try:
            info = client.conversations_info(channel=channel_id)["channel"]
        except SlackApiError as exc:
            log.info("conversations.info failed; treating the conversation as private and "
                     "shared", extra={"channel": channel_id, "error": exc.response.get("error")})
            return Channel(channel_id, is_private=True, external=True, known=False)
        teams = {str(t) for t in (info.get("shared_team_ids") or [])}
        teams |= {str(t) for t in (info.get("connected_team_ids") or [])}
        teams |= {str(t) for t in (info.get("pending_connected_team_ids") or [])}
        own = {team_id, str(info.get("context_team_id") or team_id)}
        external = bool(info.get("is_ext_shared") or info.get("is_pending_ext_shared")
                        or (info.get("is_shared") and not info.get("is_org_shared"))
                        or (teams - own and not info.get("is_org_shared")))
        channel = Channel(channel_id, is_private=bool(
            channel_id.startswith("D") or info.get("is_private") or info.get("is_im")
            or info.get("is_mpim") or info.get("is_group")),
            external=external, external_teams=frozenset(teams - own))
        with self._lock:
            self._put(self._channels, key, channel, self.channel_ttl)
        return channel

    def is_private(self, client: WebClient, team_id: str, channel_id: str) -> bool:
        """True for private channels, DMs and group DMs; unknown counts as private."""
        if channel_id.startswith("D"):
            return True
        return self.conversation(client, team_id, channel_id).is_private

    def forget_conversation(self, team_id: str, channel_id: str) -> None:
        with self._lock:
            self._channels.pop((team_id, channel_id), None)

    def member(self, client: WebClient, team_id: str, user_id: str) -> Member:
        """The requesting user's role, from ``users.info`` (a failed look-up grants nothing).

        Cached for a minute: a demoted admin loses rights within that time."""
        key = (team_id, user_id)
        with self._lock:
            hit = self._members.get(key)
            if hit and time.monotonic() - hit[0] < self.member_ttl:
                return hit[1]
        try:
            info = client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            log.warning("users.info failed; no admin rights assumed",
                        extra={"user": user_id, "error": exc.response.get("error")})
            return Member(user_id)
        if info.get("deleted") or (info.get("team_id") and info.get("team_id") != team_id
                                   and not info.get("enterprise_user")):
            member = Member(user_id, is_guest=True)  # another organisation's member
        else:
            member = Member(user_id, is_admin=bool(info.get("is_admin")),
                            is_owner=bool(info.get("is_owner") or info.get("is_primary_owner")),
                            is_guest=bool(info.get("is_restricted")
                                          or info.get("is_ultra_restricted")))
        with self._lock:
            self._put(self._members, key, member, self.member_ttl)
        return member

    def org_name(self, client: WebClient, team_id: str, other_team: str) -> str | None:
        """The name of another organisation sharing a channel with us (``team.info``; Slack
        answers only for organisations the app shares a channel with), or None."""
        key = (team_id, other_team)
        with self._lock:
            hit = self._orgs.get(key)
            if hit and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        try:
            name = (client.team_info(team=other_team)["team"] or {}).get("name") or None
        except SlackApiError as exc:
            log.info("team.info failed", extra={"team": other_team,
                                                "error": exc.response.get("error")})
            return None
        with self._lock:
            self._put(self._orgs, key, name, self.ttl)
        return str(name) if name else None

    @staticmethod
    def permalink(client: WebClient, channel_id: str, ts: str) -> str | None:
        try:
            return client.chat_getPermalink(channel=channel_id, message_ts=ts)["permalink"]
        except SlackApiError as exc:
            log.info("chat.getPermalink failed", extra={"channel": channel_id,
                                                        "error": exc.response.get("error")})
            return None
