"""Help Scout: conversations as the Mailbox API 2.0 lists them with ``embed=threads``
(``{"_embedded": {"conversations": [...]}}``, each with ``_embedded.threads``), one
conversation per line (JSON Lines), or a single conversation; with, optionally, the customers
they refer to (``{"_embedded": {"customers": [...]}}`` from the Customers API), which give the
organization and the account's age.

Kept: threads of type ``customer`` that are published. Never: replies (``message``), notes,
line items, chats, phone notes, drafts. Bodies are HTML: the text is converted (inscriptis)
and the HTML kept for audit. The speaker is the thread's customer (``first`` ``last``, else
the e-mail's local part); the company is the customer's ``organization``; a new user's
customer has a ``createdAt`` under 30 days before the thread; the link is the conversation's
``_links.web.href``.
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

SKIPPED = {"message": "agents' replies", "note": "internal notes"}


@dataclass
class _Bag:
    conversations: list[tuple[Where, dict[str, object]]] = field(default_factory=list)
    customers: dict[str, tuple[Where, dict[str, object]]] = field(default_factory=dict)


def read(path: str | Path, docs: list[Doc]) -> DeskExport:
    bag = _Bag()
    for where, record in records(path, docs):
        _collect(record, where, bag)
    export = DeskExport(format="helpscout")
    for conversation_id, where, conversation in first_by_id(bag.conversations):
        _conversation(conversation_id, conversation, where, bag, export)
        export.tickets += 1
    return export


def _collect(record: dict[str, object], where: Where, bag: _Bag) -> None:
    embedded = record.get("_embedded")
    if "mailboxId" in record or "primaryCustomer" in record or (
            isinstance(embedded, dict) and "threads" in embedded and "id" in record):
        bag.conversations.append((where, record))
        return
    if "firstName" in record or ("organization" in record and "id" in record):
        bag.customers[ident(record, "id", where)] = (where, record)
        return
    if isinstance(embedded, dict):
        w = where.key("_embedded")
        if "threads" in embedded:
            raise w.key("threads").fail(
                "threads without their conversation: export conversations with "
                "embed=threads (GET /v2/conversations?embed=threads)")
        for key in ("conversations", "customers"):
            for iw, item in items(embedded, key, w):
                _collect(obj(item, iw), iw, bag)


def _conversation(conversation_id: str, conversation: dict[str, object], where: Where,
                  bag: _Bag, export: DeskExport) -> None:
    here = where.in_ticket("conversation", conversation_id)
    embedded = conversation.get("_embedded") or {}
    threads = items(obj(embedded, here.key("_embedded")), "threads", here.key("_embedded"))
    links = conversation.get("_links")
    web = links.get("web") if isinstance(links, dict) else None
    url = clean(web.get("href")) if isinstance(web, dict) else None
    for w, thread in threads:
        _thread(conversation_id, obj(thread, w), w, url, bag, export)


def _thread(conversation_id: str, thread: dict[str, object], where: Where, url: str | None,
            bag: _Bag, export: DeskExport) -> None:
    kind = text(thread, "type", where)
    if kind != "customer":
        if kind in SKIPPED:
            export.skipped[SKIPPED[kind]] += 1
        elif kind in ("chat", "phone"):
            export.skipped["chats and phone notes"] += 1
        return
    if thread.get("state", "published") != "published":
        export.skipped["drafts and hidden threads"] += 1
        return
    body = text(thread, "body", where)
    converted = html_to_text(body) if body else ""
    if not converted:
        export.skipped["threads without words (attachments only)"] += 1
        return
    said_at = when(thread, "createdAt", where)
    assert said_at is not None and body is not None
    person = thread.get("customer") if isinstance(thread.get("customer"), dict) \
        else thread.get("createdBy")
    person = obj(person, where.key("customer"))
    customer_where, customer = bag.customers.get(str(person.get("id")), (where, {}))
    name = " ".join(n for n in (clean(person.get("first")) or clean(customer.get("firstName")),
                                clean(person.get("last")) or clean(customer.get("lastName")))
                    if n)
    email = clean(person.get("email")) or _first_email(customer)
    export.comments.append(CustomerComment(
        ticket_id=conversation_id, comment_id=ident(thread, "id", where), text=converted,
        said_at=said_at, speaker=speaker_name(name, email),
        company=clean(customer.get("organization")), url=url,
        new_user=is_new(when(customer, "createdAt", customer_where, required=False), said_at),
        html=body))


def _first_email(customer: dict[str, object]) -> str | None:
    embedded = customer.get("_embedded")
    emails = embedded.get("emails") if isinstance(embedded, dict) else None
    if isinstance(emails, list) and emails and isinstance(emails[0], dict):
        return clean(emails[0].get("value"))
    return None
