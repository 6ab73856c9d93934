"""store/policy.py: the one visibility and permission policy, in Python and in SQL."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core.query import parse_query
from bot.core.stats import workspace_stats
from store.models import Quote
from store.policy import (
    Conversation,
    Member,
    from_outside,
    may_change_quote,
    may_change_settings,
    person_key,
    postable_in,
    shown_in,
    spoken_within_clause,
    visible_clause,
    visible_in,
)
from store.queries.quotes import NewQuote


def test_python_and_sql_visibility_agree(services) -> None:  # type: ignore[no-untyped-def]
    """Every combination of private/shareable/origin, seen from each conversation."""
    cases = list(itertools.product([False, True], [False, True], ["CA", "CB", None]))
    for n, (private, shareable, channel) in enumerate(cases):
        saved = services.capture.save(NewQuote(
            team_id="T1", text=f"quote {n}", channel_id=channel,
            message_ts=f"{n}.1" if channel else None, is_private=private)).quote
        if shareable:
            services.edits.update_details("T1", saved.id, shareable=True)
    with services.sessions() as s:
        rows = s.scalars(select(Quote)).all()
        for where in ("CA", "CB", "CZ"):
            in_sql = set(s.scalars(select(Quote.id).where(visible_clause(where))))
            in_python = {q.id for q in rows if visible_in(q, where)}
            assert in_sql == in_python, where
    assert all(visible_in(q, None) for q in rows)  # the administrator's view


def test_one_person_is_counted_once_everywhere(services, clock) -> None:  # type: ignore[no-untyped-def]
    """App Home, /voice's breadth and the digest agree on who is one person."""
    for n, name in enumerate(("Dana Lee", "DANA  LEE", "\uff24\uff41\uff4e\uff41 Lee")):
        services.capture.save(NewQuote(team_id="T1", text=f"Billing export fails, take {n}",
                                      speaker_name=name, company="Acme"))
    services.capture.save(NewQuote(team_id="T1", text="Billing export fails for us too",
                                  speaker_name="Sam", speaker_user_id="U5", company="ACME "))
    services.capture.save(NewQuote(team_id="T1", text="Billing export fails every week",
                                  speaker_name="Samuel", speaker_user_id="U5"))
    stats = workspace_stats(services.sessions, "T1", clock())
    breadth = services.search.search("T1", parse_query("billing export fails"),
                                     channel_id="C1").breadth
    digest = services.digests.build("T1", clock() - timedelta(days=7),
                                    clock() + timedelta(seconds=1), "C1")
    assert (stats.people, breadth.people, digest.people) == (2, 2, 2)
    assert (stats.companies, breadth.companies, digest.companies) == (1, 1, 1)


def test_person_key() -> None:
    assert person_key("U1", "Ana") == person_key("U1", "Someone else") == "u:U1"
    assert person_key(None, " Ana  Lee ") == person_key(None, "ana lee")
    assert person_key(None, "  ") is None and person_key(None, None) is None


class _Q:
    def __init__(self, **kw) -> None:  # type: ignore[no-untyped-def]
        self.is_private, self.shareable, self.channel_id = False, False, "C1"
        self.speaker_team_id, self.captured_by = None, "U1"
        self.__dict__.update(kw)


def test_changing_a_quote_is_for_its_capturer_or_an_admin() -> None:
    quote = _Q()
    assert may_change_quote(quote, Member("U1"))
    assert not may_change_quote(quote, Member("U2"))
    assert may_change_quote(quote, Member("U2", is_admin=True))
    assert may_change_quote(quote, Member("U2", is_owner=True))
    assert not may_change_quote(_Q(captured_by=None), Member("U2"))
    assert not may_change_quote(_Q(captured_by=""), Member(""))


@pytest.mark.parametrize("role,member,allowed", [
    ("admins", Member("U"), False), ("admins", Member("U", is_admin=True), True),
    ("admins", Member("U", is_owner=True), True),
    ("owners", Member("U", is_admin=True), False), ("owners", Member("U", is_owner=True), True),
    ("everyone", Member("U"), True), ("everyone", Member("U", is_guest=True), False),
    ("bogus", Member("U"), False),
])
def test_settings_role(role: str, member: Member, allowed: bool) -> None:
    assert may_change_settings(role, member) is allowed


def test_posting_in_a_shared_channel() -> None:
    inside = Conversation("C1")
    shared = Conversation("CX", external=True, external_teams=frozenset({"TP"}))
    theirs, other = _Q(speaker_team_id="TP"), _Q(speaker_team_id="TO")
    assert postable_in(other, inside, share_own_org=False)
    assert not postable_in(theirs, shared, share_own_org=False)
    assert postable_in(theirs, shared, share_own_org=True)
    assert not postable_in(other, shared, share_own_org=True)
    assert not postable_in(_Q(is_private=True, channel_id="C9"), inside, share_own_org=True)


def test_shown_in_a_shared_channel_leaves_out_other_organisations_words(services) -> None:  # type: ignore[no-untyped-def]
    """Python and SQL agree; own people's and the sharing organisation's words stay."""
    for n, (team, private, channel) in enumerate(itertools.product(
            [None, "TACME", "TGLOB"], [False, True], ["CACME", "C1"])):
        services.capture.save(NewQuote(team_id="T1", text=f"words {n}", channel_id=channel,
                                       message_ts=f"{n}.1", speaker_team_id=team,
                                       is_private=private))
    acme = Conversation("CACME", external_teams=frozenset({"TACME"}), external=True)
    glob = Conversation("CGLOB", external_teams=frozenset({"TGLOB"}), external=True)
    unknown = Conversation("CX", external=True)  # Slack would not describe it
    internal = Conversation("C2")
    with services.sessions() as s:
        rows = s.scalars(select(Quote)).all()
        for where in (acme, glob, unknown, internal):
            in_python = {q.id for q in rows if shown_in(q, where)}
            stmt = select(Quote.id).where(visible_clause(str(where.channel_id)))
            if where.external:
                stmt = stmt.where(spoken_within_clause(where.external_teams))
            assert set(s.scalars(stmt)) == in_python, where
        teams = {where: {q.speaker_team_id for q in rows if shown_in(q, where)}
                 for where in (acme, glob, unknown, internal)}
    assert teams[acme] == {None, "TACME"} and teams[glob] == {None, "TGLOB"}
    assert teams[unknown] == {None} and teams[internal] == {None, "TACME", "TGLOB"}


def test_from_outside() -> None:
    shared = Conversation("CACME", external_teams=frozenset({"TACME"}), external=True)
    assert from_outside("T1", "TACME", shared)
    assert not from_outside("T1", "T1", shared) and not from_outside("T1", None, shared)
    # a channel shared only within one Enterprise Grid organisation: colleagues
    assert not from_outside("T1", "T2", Conversation("CORG", frozenset({"T2"})))
