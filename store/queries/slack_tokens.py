"""Rewriting the stored Slack tokens in place: encrypting plaintext rows, re-encrypting with
a new key. The transformation comes from the caller (``bot/slack/installations.py``); this
module only reads and writes the rows, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from store.slack_tables import BOTS_TABLE, INSTALLATIONS_TABLE, slack_metadata, token_columns


@dataclass(frozen=True)
class TokenCount:
    tokens: int = 0
    changed: int = 0


def rewrite_tokens(conn: Connection, transform: Callable[[str], str]) -> TokenCount:
    """Apply ``transform`` to every stored token of both installation tables; write back
    the ones it changed. An exception from ``transform`` leaves the transaction to the
    caller (roll it back: nothing is half rewritten)."""
    metadata = slack_metadata()
    tokens = changed = 0
    for name in (BOTS_TABLE, INSTALLATIONS_TABLE):
        table = metadata.tables[name]
        columns = token_columns(table)
        for row in conn.execute(select(table.c.id, *columns)).all():
            updates = {}
            for column in columns:
                value = row._mapping[column.name]
                if value is None:
                    continue
                tokens += 1
                new = transform(value)
                if new != value:
                    updates[column.name] = new
            if updates:
                conn.execute(table.update().where(table.c.id == row.id).values(**updates))
                changed += len(updates)
    return TokenCount(tokens=tokens, changed=changed)


def stored_tokens(conn: Connection) -> list[str]:
    """Every stored token value, for checks that change nothing."""
    metadata = slack_metadata()
    out: list[str] = []
    for name in (BOTS_TABLE, INSTALLATIONS_TABLE):
        table = metadata.tables[name]
        for row in conn.execute(select(*token_columns(table))).all():
            out.extend(v for v in row if v is not None)
    return out
