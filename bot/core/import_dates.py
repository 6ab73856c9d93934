"""Dates as people type them in spreadsheets: ISO, ``2026/10/05``, ``02/10/2026``,
``06.10.2026``, ``Oct 3, 2026``, ``5 Oct 2026``.

Slash, dot and dash dates with the year last are day-first or month-first; one order is chosen
for the whole file (:func:`decide_order`) from its unambiguous values or from the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum

MONTHS = {name: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1) for name in names}

_TIME = r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
#: 2026/10/05, 2026.10.05
_YEAR_FIRST = re.compile(r"(?P<y>\d{4})[/.](?P<a>\d{1,2})[/.](?P<b>\d{1,2})" + _TIME)
#: 02/10/2026, 06.10.2026, 6-10-2026 (and two-digit years)
_YEAR_LAST = re.compile(r"(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)"
                        r"(?P<y>\d{4}|\d{2})" + _TIME)
#: Oct 3, 2026 / October 3rd 2026
_MONTH_FIRST_NAME = re.compile(r"(?P<mon>[a-z]{3,9})\.? (?P<d>\d{1,2})(?:st|nd|rd|th)?,? "
                               r"(?P<y>\d{4})" + _TIME)
#: 5 Oct 2026 / 5-Oct-2026 / 5 October, 2026
_DAY_FIRST_NAME = re.compile(r"(?P<d>\d{1,2})(?:st|nd|rd|th)?[ \-](?P<mon>[a-z]{3,9})\.?,?"
                             r"[ \-](?P<y>\d{4})" + _TIME)


class Order(Enum):
    DAY_FIRST = "day-first"
    MONTH_FIRST = "month-first"


@dataclass(frozen=True)
class Ambiguity:
    """No value decides the order of the file's slash/dot dates (or values contradict)."""

    examples: tuple[tuple[int, str], ...]
    conflicting: bool = False


def order_hint(value: str) -> Order | None | bool:
    """What one value says about the order: an :class:`Order`, ``None`` (nothing: not a
    year-last date, or the same date either way) or ``True`` (ambiguous: ``02/10/2026``)."""
    m = _YEAR_LAST.fullmatch(value.strip())
    if m is None:
        return None
    a, b = int(m["a"]), int(m["b"])
    if a > 12 >= b:
        return Order.DAY_FIRST
    if b > 12 >= a:
        return Order.MONTH_FIRST
    if a == b or a > 12:  # the same either way, or nonsense either way
        return None
    return True


def decide_order(values: Iterable[tuple[int, str]]) -> Order | Ambiguity | None:
    """One order for a file's dates, from ``(line, value)`` pairs; ``None`` when no value
    needs one."""
    evidence: dict[Order, tuple[int, str]] = {}
    ambiguous: list[tuple[int, str]] = []
    for line, value in values:
        hint = order_hint(value)
        if isinstance(hint, Order):
            evidence.setdefault(hint, (line, value))
        elif hint is True and len(ambiguous) < 3:
            ambiguous.append((line, value))
    if len(evidence) == 2:
        return Ambiguity(tuple(evidence[o] for o in Order), conflicting=True)
    if evidence:
        return next(iter(evidence))
    if ambiguous:
        return Ambiguity(tuple(ambiguous))
    return None


def parse_date(value: str, order: Order | None) -> datetime | None:
    """The date in ``value`` (UTC unless it says otherwise), or ``None`` when not understood.
    An ambiguous year-last date with no ``order`` is not understood."""
    s = value.strip()
    dt: datetime | None
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        dt = _parse_other(s.lower(), order)
        if dt is None:
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _parse_other(s: str, order: Order | None) -> datetime | None:
    if m := _YEAR_FIRST.fullmatch(s):
        return _make(m["y"], m["a"], m["b"], m)
    if m := _YEAR_LAST.fullmatch(s):
        a, b = m["a"], m["b"]
        if order is None:
            hint = order_hint(s)
            if hint is True:
                return None
            order = hint if isinstance(hint, Order) else Order.DAY_FIRST
        month, day = (b, a) if order is Order.DAY_FIRST else (a, b)
        return _make(m["y"], month, day, m)
    for pattern in (_MONTH_FIRST_NAME, _DAY_FIRST_NAME):
        if (m := pattern.fullmatch(s)) and (month := MONTHS.get(m["mon"])):
            return _make(m["y"], str(month), m["d"], m)
    return None


def _make(year: str, month: str, day: str, m: re.Match[str]) -> datetime | None:
    y = int(year) + (2000 if len(year) == 2 else 0)
    try:
        return datetime(y, int(month), int(day), int(m["H"] or 0), int(m["M"] or 0),
                        int(m["S"] or 0))
    except ValueError:
        return None
