"""What every vendor's reader produces: the customers' own comments, each with who wrote it,
their company, when, the ticket's link, and whether their account was new; and the rules
the vendors share (the speaker's name, HTML to text, a new user).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from store.vocab import NEW_USER_DAYS


@dataclass(frozen=True)
class CustomerComment:
    """A comment a customer wrote. ``text`` is the comment's text: as the export gives it, or
    converted from ``html`` (kept for audit) when the export only has HTML."""

    ticket_id: str
    comment_id: str
    text: str
    said_at: datetime
    speaker: str | None
    company: str | None = None
    url: str | None = None
    new_user: bool = False
    html: str | None = None


@dataclass
class DeskExport:
    """A read export: its vendor, the customers' comments, and what was left out and why
    (``skipped["internal notes"] == 2``)."""

    format: str
    tickets: int = 0
    comments: list[CustomerComment] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def clean(value: object) -> str | None:
    """A string field stripped, or None when it is missing, blank or not a string."""
    return (value.strip() or None) if isinstance(value, str) else None


def speaker_name(name: str | None, email: str | None) -> str | None:
    """The customer's name, or the local part of their e-mail address when they have no name
    (or their "name" is the address itself): never the whole address."""
    name = (name or "").strip()
    if name and "@" not in name:
        return name
    address = (email or name or "").strip()
    local = address.split("@", 1)[0].strip()
    return local or None


#: What an e-mail client puts around the message being answered: the team's earlier reply,
#: quoted under the customer's words. Not the customer's words, so not part of the text.
QUOTED_REPLY = ("//blockquote | //*[contains(concat(' ', normalize-space(@class), ' '), "
                "' gmail_quote ')] | //*[contains(concat(' ', normalize-space(@class), ' '), "
                "' moz-cite-prefix ')]")


def html_to_text(html: str) -> str:
    """The text a reader sees in ``html`` (paragraphs, line breaks and lists laid out, entities
    decoded), by inscriptis, without quoted earlier messages (``<blockquote>``, Gmail's
    ``gmail_quote``, Thunderbird's ``moz-cite-prefix``); stripped at both ends. inscriptis and
    lxml are imported here: they load only for an HTML export."""
    from inscriptis import Inscriptis
    from lxml.etree import ParserError
    from lxml.html import document_fromstring

    if not html.strip():
        return ""
    try:
        tree = document_fromstring(html)
    except ParserError:  # text without any element
        tree = document_fromstring(f"<pre>{html}</pre>")
    for quoted in tree.xpath(QUOTED_REPLY):
        quoted.drop_tree()
    return str(Inscriptis(tree).get_text()).strip()


def is_new(account_created: datetime | None, said_at: datetime) -> bool:
    """The account was under NEW_USER_DAYS days old when the comment was written (an account
    dated after the comment, as when the comment created it, is new)."""
    if account_created is None:
        return False
    return said_at - account_created < timedelta(days=NEW_USER_DAYS)


def agent_url(api_url: str | None) -> str | None:
    """Zendesk gives a ticket's API URL (``https://acme.zendesk.com/api/v2/tickets/35436.json``);
    people open ``https://acme.zendesk.com/agent/tickets/35436``."""
    if not api_url or "/api/v2/tickets/" not in api_url:
        return api_url or None
    base, _, rest = api_url.partition("/api/v2/tickets/")
    number = rest.split(".json", 1)[0].split("?", 1)[0]
    return f"{base}/agent/tickets/{number}" if number.isdigit() else api_url
