"""The one visibility and permission policy: who may see a quote where, and who may change it.

Every surface (slash command, buttons, modals, @mention, App Home, digest, CLI) asks these
functions; none writes the rules out again. The inputs are facts the server established
itself (the stored quote, the conversation Slack says a request came from, the requesting
user's role as Slack reports it), never state carried in a button value or
``private_metadata``.

Rules:

* **Private origin.** A quote captured in a private channel, DM or group DM is shown only in
  that same conversation, unless its capturer (or an admin) marked it shareable.
* **Outside readers.** Nothing is posted where another organisation reads it (a channel
  shared through Slack Connect), except, when the workspace turned it on, quotes whose
  speaker belongs to that same organisation. Ephemeral answers are read only by the member
  who asked; in such a channel they still leave out words spoken by members of any
  organisation other than the ones sharing it (:func:`shown_in`): one customer's words,
  for example kept by listening in their own shared channel, never come up in another's.
* **Changing a quote** (details, shareable, delete, review) is for its capturer or a
  workspace admin/owner. Its speaker (by Slack user id) may remove it: their own words.
* **Workspace settings** are for the role the workspace chose: admins (default), owners, or
  everyone (full members; guests never).
* **Someone from another organisation** (whose words listening keeps) writes in a channel
  shared through Slack Connect and belongs to a team other than the workspace's own
  (:func:`from_outside`); in a channel not shared outside, nobody is.
* **A person** is their Slack user id when known, else their name compared
  case-, width- and whitespace-insensitively (:func:`person_key`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_

from store.models import Quote

#: The conversation id App Home uses for its "recent quotes" (no private quotes there).
APP_HOME = "__app_home__"
SETTINGS_ROLES = ("admins", "owners", "everyone")


def normalize_key(value: str) -> str:
    """Case-, width- and whitespace-insensitive form of a name (NFKC, casefold)."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def person_key(user_id: str | None, name: str | None) -> str | None:
    """Who a speaker is, for counting people: the Slack user id, else the normalized name."""
    if user_id:
        return f"u:{user_id}"
    return f"n:{normalize_key(name)}" if name and name.strip() else None


# -- seeing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Conversation:
    """Where quotes would be shown, as the server established it (never from a payload).

    ``channel_id=None`` is the administrator's view (the CLI on the server's own database).
    """

    channel_id: str | None
    external_teams: frozenset[str] = frozenset()  # other organisations reading it
    external: bool = False  # shared with another organisation (Slack Connect)

    @property
    def admin_view(self) -> bool:
        return self.channel_id is None


def _get(quote: Any, name: str) -> Any:
    return getattr(quote, name)


def visible_in(quote: Any, channel_id: str | None) -> bool:
    """May ``quote`` (a QuoteView or Quote row) be shown in ``channel_id``?"""
    if channel_id is None:
        return True
    return (not _get(quote, "is_private") or bool(_get(quote, "shareable"))
            or _get(quote, "channel_id") == channel_id)


def visible_clause(channel_id: str) -> ColumnElement[bool]:
    """:func:`visible_in` as a SQL condition on ``quotes`` (the two are tested to agree)."""
    return or_(Quote.is_private.is_(False), Quote.shareable.is_(True),
               Quote.channel_id == channel_id)


def hidden_clause(channel_id: str) -> ColumnElement[bool]:
    """The negation of :func:`visible_clause` (private quotes from elsewhere; usually few).

    Read through ix_quotes_team_id_private (SQLite and PostgreSQL both take ``IS`` on these
    NOT NULL columns as an index condition): it runs before every /voice answer in a
    channel, and as a scan of the team's quotes it took 10 ms of each answer at 10k quotes."""
    return (Quote.is_private.is_(True) & Quote.shareable.is_(False)
            & or_(Quote.channel_id.is_(None), Quote.channel_id != channel_id))


def shown_in(quote: Any, where: Conversation) -> bool:
    """May ``quote`` be shown in ``where``, even only to the member who asked (``/voice``,
    its buttons)? :func:`visible_in`, and in a conversation shared with other organisations,
    not words spoken by a member of an organisation that does not share it."""
    if not visible_in(quote, where.channel_id):
        return False
    if not where.external:
        return True
    team = _get(quote, "speaker_team_id")
    return not team or team in where.external_teams


def spoken_within_clause(shared_with: frozenset[str]) -> ColumnElement[bool]:
    """The organisation part of :func:`shown_in` as a SQL condition on ``quotes``: spoken by
    the workspace's own people (no speaker team) or by one of ``shared_with``."""
    return or_(Quote.speaker_team_id.is_(None), Quote.speaker_team_id.in_(sorted(shared_with)))


def postable_in(quote: Any, where: Conversation, *, share_own_org: bool) -> bool:
    """May ``quote`` be posted publicly (Share, @mention, digest) in ``where``?"""
    if not visible_in(quote, where.channel_id):
        return False
    if not where.external:
        return True
    team = _get(quote, "speaker_team_id")
    return bool(share_own_org and team and team in where.external_teams)


def from_outside(own_team: str, speaker_team: str | None, where: Conversation) -> bool:
    """Is a message's author in ``where`` a member of another organisation? Their team
    differs from ``own_team`` and ``where`` is shared outside (in a channel shared only
    within one Enterprise Grid organisation, other workspaces' members are colleagues)."""
    return bool(speaker_team and speaker_team != own_team and where.external)


def refusal_for_external(where: Conversation, *, share_own_org: bool) -> str:
    """Why nothing (or only some quotes) can be posted in an externally shared channel."""
    text = (f"<#{where.channel_id}> is shared with another organisation, so I don't post "
            "users' words there: one customer's words must not reach another. Use `/voice` "
            "(only you see its answer) or share in an internal channel.")
    if share_own_org:
        text += (" Quotes from that organisation's own people can be shared there; this one "
                 "is not from them.")
    return text


# -- changing -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    """What Slack says about the requesting user (``users.info``)."""

    user_id: str
    is_admin: bool = False
    is_owner: bool = False
    is_guest: bool = False  # restricted or ultra-restricted account

    @property
    def is_admin_or_owner(self) -> bool:
        return self.is_admin or self.is_owner


def may_change_quote(quote: Any, member: Member) -> bool:
    """Edit details, mark shareable, review or delete: the capturer, or an admin/owner."""
    captured_by = _get(quote, "captured_by")
    return bool(captured_by and captured_by == member.user_id) or member.is_admin_or_owner


def may_remove_own_words(quote: Any, user_id: str) -> bool:
    """May ``user_id`` remove ``quote`` as its speaker? Yes when Slack's user id for the
    speaker is theirs: people may take back their own words (the removal emoji)."""
    speaker = _get(quote, "speaker_user_id")
    return bool(speaker and user_id and speaker == user_id)


def may_change_settings(role: str, member: Member) -> bool:
    """May ``member`` change the workspace's voicebot settings under ``role``?"""
    if member.is_admin_or_owner and role != "owners":
        return True
    if role == "owners":
        return member.is_owner
    if role == "everyone":
        return not member.is_guest
    return False


def settings_role_text(role: str) -> str:
    """Who may change settings, in words ("workspace admins and owners")."""
    return {"owners": "workspace owners", "everyone": "any full member of the workspace"}.get(
        role, "workspace admins and owners")


def count_people(keys: Iterable[str | None]) -> int:
    return len({k for k in keys if k})
