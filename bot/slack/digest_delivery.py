"""Posting each weekly digest exactly once, across processes, restarts and retries.

A digest for (team, channel, period) is posted only by whoever holds its row in
``digest_claims``. Inserting the row is the claim (a unique constraint decides races). A
claim left ``claimed`` past its lease belonged to a process that died: the next process
takes it over, first checks the channel for a digest that did get posted (each carries
message metadata naming its team and period), and posts only if none is there.

The claim's SQL is in :mod:`store.queries.digest_claims`; this module owns the transactions
and talks to Slack.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.digest import DigestService, week_ending
from bot.core.workspaces import WorkspaceService
from bot.slack.directory import Directory
from bot.slack.views.digest import digest_blocks
from store.clock import Clock, system_clock
from store.errors import AlreadyStored
from store.queries import digest_claims, workspaces

log = logging.getLogger(__name__)
METADATA_TYPE = "voicebot_digest"
MAX_ATTEMPTS = 12
UNREACHABLE = {"not_in_channel": "I'm not a member of the digest channel <#{c}>. Invite me "
               "with `/invite @voicebot` there, or choose another channel.",
               "channel_not_found": "The digest channel no longer exists or I can't see it. "
               "Choose another channel in Settings.",
               "is_archived": "The digest channel <#{c}> is archived. Choose another channel.",
               "restricted_action": "Posting in <#{c}> is restricted for apps. Choose another "
               "channel or ask an admin.",
               "externally_shared": "<#{c}> is shared with another organisation (or I could "
               "not check who reads it), and the digest quotes users: it must stay internal. "
               "Choose an internal channel."}


@dataclass(frozen=True)
class Outcome:
    team_id: str
    status: str  # posted | already_posted | in_progress | failed | off
    detail: str = ""


class DigestDelivery:
    def __init__(self, sessions: sessionmaker[Session], digests: DigestService,
                 workspaces: WorkspaceService, client_for: Callable[[str], WebClient], *,
                 mask: bool = True, lease: timedelta = timedelta(minutes=10),
                 worker: str | None = None, clock: Clock = system_clock) -> None:
        self.clock = clock
        self.directory = Directory(channel_ttl=0)  # asked once per post: always fresh
        self.sessions = sessions
        self.digests = digests
        self.workspaces = workspaces
        self.client_for = client_for
        self.mask = mask
        self.lease = lease
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"

    def run_due(self, now: datetime | None = None) -> list[Outcome]:
        """Post every workspace's due digest that has not been posted yet."""
        now = now or self.clock()
        with self.sessions() as session:
            teams = workspaces.with_digest(session)
        outcomes = []
        for team in teams:  # one workspace's trouble never blocks another's digest
            try:
                outcomes.append(self.post(team, now=now))
            except Exception as exc:  # noqa: BLE001 - logged with the team, retried next tick
                log.exception("digest failed", extra={"team": team})
                outcomes.append(Outcome(team, "failed", type(exc).__name__))
        return outcomes

    def post(self, team_id: str, now: datetime | None = None) -> Outcome:
        now = now or self.clock()
        settings = self.workspaces.get(team_id)
        if not settings.digest_channel:
            return Outcome(team_id, "off", "no digest channel chosen")
        start, end = week_ending(settings, now)
        channel = settings.digest_channel
        claim_id, takeover = self._claim(team_id, channel, start, end, now)
        if claim_id is None:
            return Outcome(team_id, takeover and "already_posted" or "in_progress")
        client = self.client_for(team_id)
        if takeover:
            ts = self._already_posted(client, channel, team_id, start)
            if ts:
                self._finish(claim_id, ts, team_id)
                log.info("digest found already posted; not posting again",
                         extra={"team": team_id, "channel": channel, "ts": ts})
                return Outcome(team_id, "already_posted", ts)
        if self.directory.conversation(client, team_id, channel).external:
            self._fail(claim_id, team_id, "externally_shared", channel)
            log.warning("digest not posted: channel shared with another organisation",
                        extra={"team": team_id, "channel": channel})
            return Outcome(team_id, "failed", "externally_shared")
        data = self.digests.build(team_id, start.astimezone(timezone.utc),
                                  end.astimezone(timezone.utc), channel,
                                  stale_months=settings.stale_months)
        text, blocks = digest_blocks(data, mask=self.mask)
        try:
            resp = client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, unfurl_links=False,
                metadata={"event_type": METADATA_TYPE, "event_payload": {
                    "team": team_id, "period_start": start.isoformat()}})
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            self._fail(claim_id, team_id, error, channel)
            log.warning("digest post failed", extra={"team": team_id, "channel": channel,
                                                     "error": error})
            return Outcome(team_id, "failed", error)
        self._finish(claim_id, resp["ts"], team_id)
        log.info("digest posted", extra={"team": team_id, "channel": channel,
                                         "quotes": data.total, "ts": resp["ts"]})
        return Outcome(team_id, "posted", resp["ts"])

    def _claim(self, team_id: str, channel: str, start: datetime, end: datetime,
               now: datetime) -> tuple[int | None, bool]:
        """(claim id, taken over) when this process should post; (None, posted?) if not."""
        try:
            with self.sessions.begin() as session:
                return digest_claims.claim(session, team_id=team_id, channel_id=channel,
                                           start=start, end=end, worker=self.worker,
                                           now=now), False
        except AlreadyStored:
            pass
        with self.sessions.begin() as session:
            claim = digest_claims.find(session, team_id, channel, start)
            if claim is None or claim.status == "posted":
                return None, True
            stale = claim.status == "failed" or claim.claimed_at < now - self.lease
            if not stale or claim.attempts >= MAX_ATTEMPTS:
                return None, False
            won = digest_claims.take_over(session, claim, worker=self.worker, now=now)
            return (claim.id, True) if won else (None, False)

    def _already_posted(self, client: WebClient, channel: str, team_id: str,
                        start: datetime) -> str | None:
        try:
            history = client.conversations_history(channel=channel, include_all_metadata=True,
                                                   oldest=str(start.timestamp()), limit=200)
        except SlackApiError as exc:
            log.info("could not read the digest channel's history",
                     extra={"error": exc.response.get("error")})
            return None
        messages: list[dict[str, Any]] = history.get("messages", [])
        for message in messages:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == METADATA_TYPE and payload.get("team") == team_id \
                    and payload.get("period_start") == start.isoformat():
                return str(message["ts"])
        return None

    def _finish(self, claim_id: int, ts: str, team_id: str) -> None:
        with self.sessions.begin() as session:
            digest_claims.mark_posted(session, claim_id, ts=ts, at=self.clock())
            workspaces.set_digest_problem(session, team_id, None)

    def _fail(self, claim_id: int, team_id: str, error: str, channel: str) -> None:
        problem = UNREACHABLE.get(error, "The last digest could not be posted (Slack said "
                                         f"`{error}`); I will retry.").format(c=channel)
        with self.sessions.begin() as session:
            digest_claims.mark_failed(session, claim_id, error)
            workspaces.set_digest_problem(session, team_id, problem)
