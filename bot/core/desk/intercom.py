"""Intercom: conversations as the Conversations API retrieves them (``type: conversation``,
with ``source`` (``conversation_message`` in API 1.0), the opening message, and
``conversation_parts``), one per line (JSON Lines),
in a ``conversation.list`` or ``{"conversations": [...]}``; with, optionally, the contacts and
companies they refer to (``{"contacts": [...]}``, ``{"companies": [...]}`` or list responses
``{"type": "list", "data": [...]}``), which give the company and the account's age.

Kept: the opening message and the parts whose author type is ``user``, ``lead`` or
``contact``, with words, not redacted. Never: admin, bot or team parts, notes. Bodies are HTML:
the text is converted (inscriptis) and the HTML kept for audit. The speaker is the author's
name (else their contact's, else the e-mail's local part); the company is the contact's first
company by name; a new user's contact has ``signed_up_at`` (else ``created_at``) under 30 days
before the part. Conversations carry no inbox URL: ``--ticket-url`` supplies one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.core.desk.comments import (
    CustomerComment,
    DeskExport,
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

CUSTOMERS = frozenset({"user", "lead", "contact"})


@dataclass
class _Bag:
    conversations: list[tuple[Where, dict[str, object]]] = field(default_factory=list)
    contacts: dict[str, tuple[Where, dict[str, object]]] = field(default_factory=dict)
    companies: dict[str, dict[str, object]] = field(default_factory=dict)


def read(path: str | Path, docs: list[Doc]) -> DeskExport:
    bag = _Bag()
    for where, record in records(path, docs):
        _collect(record, where, bag)
    export = DeskExport(format="intercom")
    for conversation_id, where, conversation in first_by_id(bag.conversations):
        _conversation(conversation_id, conversation, where, bag, export)
        export.tickets += 1
    return export


def _collect(record: dict[str, object], where: Where, bag: _Bag) -> None:
    kind = record.get("type")
    if kind == "conversation" or "conversation_parts" in record:
        bag.conversations.append((where, record))
        return
    if kind == "contact":
        bag.contacts[ident(record, "id", where)] = (where, record)
        return
    if kind == "company":
        bag.companies[ident(record, "id", where)] = record
        return
    for key in ("conversations", "contacts", "companies", "data"):
        for w, item in items(record, key, where):
            _collect(obj(item, w), w, bag)


def _conversation(conversation_id: str, conversation: dict[str, object], where: Where,
                  bag: _Bag, export: DeskExport) -> None:
    here = where.in_ticket("conversation", conversation_id)
    parts: list[tuple[Where, dict[str, object]]] = []
    for key in ("source", "conversation_message"):  # the opening message (API 2.x, 1.0)
        if isinstance(conversation.get(key), dict):
            w = here.key(key)
            opening = obj(conversation[key], w)
            parts.append((w, {"id": f"{conversation_id}:opening", **opening,
                              "part_type": "source",
                              "created_at": conversation.get("created_at")}))
    holder = conversation.get("conversation_parts")
    if holder is not None:
        w = here.key("conversation_parts")
        for pw, part in items(obj(holder, w), "conversation_parts", w):
            parts.append((pw, obj(part, pw)))
    for w, part in parts:
        _part(conversation_id, part, w, bag, export)


def _part(conversation_id: str, part: dict[str, object], where: Where, bag: _Bag,
          export: DeskExport) -> None:
    body = text(part, "body", where)
    if not (body or "").strip():
        return  # assignments, state changes: no words
    author = obj(part.get("author"), where.key("author"))
    kind = text(author, "type", where.key("author"))
    if kind not in CUSTOMERS:
        export.skipped["admin, bot and team parts"] += 1
        return
    if part.get("part_type") == "note":
        export.skipped["internal notes"] += 1
        return
    if part.get("redacted") is True:
        export.skipped["redacted parts"] += 1
        return
    author_id = str(author.get("id"))
    contact_where, contact = bag.contacts.get(author_id, (where, {}))
    if contact.get("deleted") is True:
        export.skipped["parts by deleted contacts"] += 1
        return
    said_at = when(part, "created_at", where)
    assert said_at is not None and body is not None
    converted = html_to_text(body)
    if not converted:
        return
    account = (when(contact, "signed_up_at", contact_where, required=False)
               or when(contact, "created_at", contact_where, required=False))
    export.comments.append(CustomerComment(
        ticket_id=conversation_id, comment_id=ident(part, "id", where), text=converted,
        said_at=said_at,
        speaker=speaker_name(clean(author.get("name")) or clean(contact.get("name")),
                             clean(author.get("email")) or clean(contact.get("email"))),
        company=_company(contact, bag), new_user=is_new(account, said_at), html=body))


def _company(contact: dict[str, object], bag: _Bag) -> str | None:
    """The contact's first company with a name: ``companies.data`` (API 2.x, references to
    look up) or ``companies.companies`` (older versions, with names)."""
    holder = contact.get("companies")
    if not isinstance(holder, dict):
        return None
    for ref in [*(holder.get("data") or []), *(holder.get("companies") or [])]:
        if isinstance(ref, dict):
            name = clean(ref.get("name")) or clean(
                bag.companies.get(str(ref.get("id")), {}).get("name"))
            if name:
                return name
    return None
