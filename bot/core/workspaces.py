"""Per-workspace settings people edit from Slack (capture emoji, digest channel and time):
validated here, stored by :mod:`store.queries.workspaces`."""

from __future__ import annotations

import re
import threading
import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session, sessionmaker

from store.db import db_errors
from store.errors import InvalidQuote
from store.policy import SETTINGS_ROLES
from store.queries import workspaces
from store.queries.workspaces import WorkspaceSettings

__all__ = ["WorkspaceService", "WorkspaceSettings", "parse_digest_args", "DAY_NAMES"]

EMOJI_NAME = re.compile(r"^[a-z0-9_+'\-]{1,100}$")


class WorkspaceService:
    """Reads are cached for a few seconds: every reaction event asks for the emoji."""

    def __init__(self, sessions: sessionmaker[Session], default_emoji: str,
                 ttl: float = 10.0) -> None:
        self.sessions = sessions
        self.default_emoji = default_emoji
        self.ttl = ttl
        self._cache: dict[str, tuple[float, WorkspaceSettings]] = {}
        self._lock = threading.Lock()

    @db_errors
    def get(self, team_id: str) -> WorkspaceSettings:
        with self._lock:
            hit = self._cache.get(team_id)
            if hit and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        with self.sessions() as session:
            settings = workspaces.settings(session, team_id, self.default_emoji)
        with self._lock:
            self._cache[team_id] = (time.monotonic(), settings)
        return settings

    @db_errors
    def ensure(self, team_id: str, name: str | None = None) -> None:
        with self.sessions.begin() as session:
            workspaces.ensure(session, team_id, name)

    @db_errors
    def update(self, team_id: str, **changes: object) -> WorkspaceSettings:
        """Validate and store changed settings; raise InvalidQuote with a reason."""
        emoji = changes.get("capture_emoji")
        if emoji is not None:
            emoji = str(emoji).strip().strip(":").lower()
            if not EMOJI_NAME.match(emoji):
                raise InvalidQuote(f"`{emoji}` is not an emoji name (like `loudspeaker`)")
            changes["capture_emoji"] = emoji
        tz = changes.get("digest_timezone")
        if tz is not None:
            try:
                ZoneInfo(str(tz))
            except (ZoneInfoNotFoundError, ValueError):
                raise InvalidQuote(f"`{tz}` is not a time zone (like `Europe/Paris`)") from None
        when = changes.get("digest_time")
        if when is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(when)):
            raise InvalidQuote(f"`{when}` is not a time of day (like `09:30`)")
        role = changes.get("settings_role")
        if role is not None and role not in SETTINGS_ROLES:
            raise InvalidQuote(f"`{role}` is not a role; use one of {', '.join(SETTINGS_ROLES)}")
        stale = changes.get("stale_months")
        if stale is not None and not (isinstance(stale, int) and 1 <= stale <= 120):
            raise InvalidQuote("old evidence must be 1 to 120 months")
        day = changes.get("digest_weekday")
        if day is not None and not (isinstance(day, int) and 0 <= day <= 6):
            raise InvalidQuote("the digest weekday must be 0 (Monday) to 6 (Sunday)")
        with self.sessions.begin() as session:
            settings = workspaces.change(session, team_id, changes, self.default_emoji)
        with self._lock:
            self._cache[team_id] = (time.monotonic(), settings)
        return settings


DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")


def parse_digest_args(args: str, here: str) -> dict[str, object]:
    """``/voice digest here friday 16:00 Europe/Paris`` -> settings changes.

    ``here`` (or a ``<#C…>`` channel reference) chooses the channel, ``off`` turns the digest
    off; a day name, a ``HH:MM`` time and a time zone may follow in any order. Raises
    InvalidQuote with the reason for anything it cannot read.
    """
    changes: dict[str, object] = {}
    for word in args.split():
        low = word.lower()
        if low == "off":
            changes["digest_channel"] = None
        elif low == "here":
            changes["digest_channel"] = here
        elif m := CHANNEL_REF.match(word):
            changes["digest_channel"] = m.group(1)
        elif any(day.startswith(low) for day in DAY_NAMES) and len(low) >= 3:
            changes["digest_weekday"] = next(i for i, d in enumerate(DAY_NAMES)
                                             if d.startswith(low))
        elif re.fullmatch(r"\d{1,2}:\d{2}", word):
            changes["digest_time"] = word.zfill(5)
        elif "/" in word or word.upper() == "UTC":
            changes["digest_timezone"] = "UTC" if word.upper() == "UTC" else word
        else:
            raise InvalidQuote(f"`{word}` is not a channel (`here`), a day, a time (`09:30`) "
                               "or a time zone (`Europe/Paris`)")
    return changes
