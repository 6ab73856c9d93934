"""Zendesk: tickets with their comments, as the Tickets and Ticket Comments APIs give them
(``{"tickets": [...], "users": [...], "organizations": [...]}``, ``{"ticket": ..., "comments":
[...]}``), one ticket per line with its ``comments`` (JSON Lines), or the Incremental Ticket
Event Export with ``include=comment_events`` (``{"ticket_events": [...]}``), whose
``Comment`` child events are the comments.

Kept: public comments (``public: true``, type ``Comment``) whose author is an end user (the
side-loaded user's ``role`` is ``end-user``) or, when the export has no user for the author,
the ticket's requester. Never: internal notes, agents' and admins' comments, voice comments,
side conversations, comments by deleted users (``active: false``). ``body`` is the comment's
text (``html_body`` converted when there is no ``body``); the speaker's company is their
organization (else the ticket's, for the requester); a new user has a ``created_at`` under 30
days before the comment; the link is the ticket's agent URL made from its API ``url``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.core.desk.comments import (
    CustomerComment,
    DeskExport,
    agent_url,
    clean,
    html_to_text,
    is_new,
    speaker_name,
)
from bot.core.desk.reading import (
    Doc,
    Where,
    first_by_id,
    ident,
    items,
    obj,
    records,
    text,
    when,
)


@dataclass
class _Bag:
    tickets: dict[str, dict[str, object]] = field(default_factory=dict)
    comments: dict[str, list[tuple[Where, dict[str, object]]]] = field(default_factory=dict)
    users: dict[str, tuple[Where, dict[str, object]]] = field(default_factory=dict)
    orgs: dict[str, tuple[Where, dict[str, object]]] = field(default_factory=dict)
    side_conversations: int = 0


def read(path: str | Path, docs: list[Doc]) -> DeskExport:
    bag = _Bag()
    for where, record in records(path, docs):
        _collect(record, where, bag)
    export = DeskExport(format="zendesk", tickets=len(bag.tickets.keys() | bag.comments.keys()))
    if bag.side_conversations:
        export.skipped["side conversations"] += bag.side_conversations
    for ticket_id, comments in bag.comments.items():
        for cid, where, comment in first_by_id(comments):
            _comment(ticket_id, cid, comment, where, bag, export)
    return export


def _collect(record: dict[str, object], where: Where, bag: _Bag) -> None:
    for w, event in items(record, "ticket_events", where):
        _event(obj(event, w), w, bag)
    for w, ticket in items(record, "tickets", where):
        _ticket(obj(ticket, w), w, bag)
    if "ticket" in record:
        w = where.key("ticket")
        ticket_id = _ticket(obj(record["ticket"], w), w, bag)
        for cw, comment in items(record, "comments", where):
            _add(bag, ticket_id, cw.in_ticket("ticket", ticket_id), obj(comment, cw))
    elif "requester_id" in record:  # a ticket on its own (one line of a JSON Lines export)
        _ticket(record, where, bag)
    elif "comments" in record:
        raise where.key("comments").fail(
            "comments without their ticket (the Ticket Comments API does not say which "
            'ticket they belong to): save them beside it, as {"ticket": {...}, "comments": '
            "[...]}")
    for key, table in (("users", bag.users), ("organizations", bag.orgs)):
        for w, item in items(record, key, where):
            item = obj(item, w)
            table[ident(item, "id", w)] = (w, item)
    for key, table in (("user", bag.users), ("organization", bag.orgs)):
        if isinstance(record.get(key), dict):
            w = where.key(key)
            item = obj(record[key], w)
            table[ident(item, "id", w)] = (w, item)


def _ticket(ticket: dict[str, object], where: Where, bag: _Bag) -> str:
    ticket_id = ident(ticket, "id", where)
    bag.tickets[ticket_id] = ticket
    bag.comments.setdefault(ticket_id, [])
    here = where.in_ticket("ticket", ticket_id)
    for w, comment in items(ticket, "comments", here):
        _add(bag, ticket_id, w, obj(comment, w))
    bag.side_conversations += len(items(ticket, "side_conversations", here))
    return ticket_id


def _event(event: dict[str, object], where: Where, bag: _Bag) -> None:
    """An audit of the Incremental Ticket Event Export: its ``Comment`` child events."""
    ticket_id = ident(event, "ticket_id", where)
    here = where.in_ticket("ticket", ticket_id)
    for w, child in items(event, "child_events", here):
        child = obj(child, w)
        if child.get("event_type") in ("Comment", "VoiceComment"):
            created = child.get("created_at", event.get("created_at", event.get("timestamp")))
            _add(bag, ticket_id, w, {**child, "type": child["event_type"],
                                     "created_at": created})


def _add(bag: _Bag, ticket_id: str, where: Where, comment: dict[str, object]) -> None:
    bag.comments.setdefault(ticket_id, []).append((where, comment))


def _comment(ticket_id: str, cid: str, comment: dict[str, object], where: Where, bag: _Bag,
             export: DeskExport) -> None:
    ticket = bag.tickets.get(ticket_id, {})
    public = comment.get("public", True)
    if not isinstance(public, bool):
        raise where.key("public").fail("expected true or false")
    if not public:
        export.skipped["internal notes"] += 1
        return
    if comment.get("type", "Comment") != "Comment":
        export.skipped["voice comments (call recordings)"] += 1
        return
    author = str(comment.get("author_id"))
    is_requester = comment.get("author_id") is not None and author == str(
        ticket.get("requester_id"))
    user_where, user = bag.users.get(author, (where, {}))
    if not user and not is_requester:
        export.skipped["comments by someone the export does not describe"] += 1
        return
    if user and user.get("role", "end-user") != "end-user":
        export.skipped["agents' comments"] += 1
        return
    if user.get("active") is False:
        export.skipped["comments by deleted users"] += 1
        return
    said_at = when(comment, "created_at", where)
    assert said_at is not None
    body, html = text(comment, "body", where) or "", None
    if not body.strip():
        html = text(comment, "html_body", where)
        body = html_to_text(html) if html else ""
    if not body.strip():
        export.skipped["comments without words (attachments only)"] += 1
        return
    sender = _sender(comment)
    if sender == (None, None):  # a web comment: the name their e-mails were sent with
        sender = next((_sender(c) for _, c in bag.comments.get(ticket_id, [])
                       if str(c.get("author_id")) == author and _sender(c) != (None, None)),
                      sender)
    _, org = bag.orgs.get(str(user.get("organization_id") or (
        ticket.get("organization_id") if is_requester else None)), (where, {}))
    export.comments.append(CustomerComment(
        ticket_id=ticket_id, comment_id=cid, text=body, said_at=said_at,
        speaker=speaker_name(clean(user.get("name")) or sender[0],
                             clean(user.get("email")) or sender[1]),
        company=clean(org.get("name")), url=agent_url(clean(ticket.get("url"))),
        new_user=is_new(when(user, "created_at", user_where, required=False), said_at),
        html=html))


def _sender(comment: dict[str, object]) -> tuple[str | None, str | None]:
    """An e-mail comment's ``via.source.from`` name and address (when there is no user)."""
    via = comment.get("via")
    source = via.get("source") if isinstance(via, dict) else None
    sender = source.get("from") if isinstance(source, dict) else None
    if not isinstance(sender, dict):
        return None, None
    return clean(sender.get("name")), clean(sender.get("address"))
