"""Parse what people type after `/voice`: a topic plus optional filters.

``segment:enterprise company:"Acme Corp" source:interview emotion:frustrated
speaker:dana since:30d before:2026-01-01 new:yes export is slow`` becomes a :class:`Query`. A filter
that cannot be understood is reported in ``problems``, never silently dropped.
"""

from __future__ import annotations

import difflib
import re
import shlex
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from store.errors import InvalidQuote
from store.queries.quotes import Filters
from store.vocab import EMOTIONS, NEW_USER_DAYS, parse_source_kind

FILTER_KEYS = ("segment", "company", "source", "emotion", "speaker", "since", "before", "new")
#: `new:yes` keeps quotes from users whose account was new when they spoke (the new_user tag)
NEW_VALUES = {"yes": True, "no": False}
MAX_TOPIC_CHARS = 500
MAX_FILTERS = 20  # filters in one search; more is not a question anyone asks
MAX_FILTER_CHARS = 200  # characters in one filter value
MAX_PROBLEMS = 10  # problems listed in a reply; the rest are counted
MAX_READ_FILTERS = 200  # `name:value` words checked one by one; the rest are only counted
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # C0 controls (not tab/newline)
_SPAN = re.compile(r"^(\d{1,4})\s*(d|w|m|y)$")
_FILTER = re.compile(r"^([A-Za-z_]{2,20}):(.*)$", re.S)


@dataclass(frozen=True)
class Query:
    topic: str
    raw: str = ""
    filters: Filters = field(default_factory=Filters)
    problems: tuple[str, ...] = ()

    def describe_filters(self) -> list[str]:
        """Human-readable filters, echoed back in replies."""
        f = self.filters
        out = [f"{name}: {', '.join(values)}" for name, values in (
            ("segment", f.segment), ("company", f.company), ("source", f.source),
            ("emotion", f.emotion), ("speaker", f.speaker)) if values]
        if f.since:
            out.append(f"since {f.since:%Y-%m-%d}")
        if f.before:
            out.append(f"before {f.before:%Y-%m-%d}")
        if f.new_user is not None:
            out.append("new users only" if f.new_user else "not new users")
        return out

    def filtered_out(self, unfiltered: int) -> str:
        """Why a topic search with filters found nothing, when ``unfiltered`` quotes are about
        the topic without them: "No quotes tagged frustrated about “export”; 12 quotes about
        it without that emotion." (plain text: the caller escapes it for its surface)."""
        f = self.filters
        quotes = f"{unfiltered} quote{'s' if unfiltered != 1 else ''}"
        topic = f"\u201c{self.topic}\u201d"
        if f.emotion and f == Filters(emotion=f.emotion):
            that = "that emotion" if len(f.emotion) == 1 else "those emotions"
            return (f"No quotes tagged {' or '.join(f.emotion)} about {topic}; {quotes} about "
                    f"it without {that}.")
        return (f"No quotes about {topic} match {'; '.join(self.describe_filters())}; "
                f"{quotes} about it without those filters.")


def parse_query(text: str, *, now: datetime | None = None) -> Query:
    """Parse a search. Control characters (NUL included) are dropped; more than
    MAX_FILTERS filters, or a value longer than MAX_FILTER_CHARS, is a problem reported
    before any database work; at most MAX_PROBLEMS problems are listed, the rest counted."""
    now = now or datetime.now(timezone.utc)
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text or ""))
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    try:
        tokens = shlex.split(text, posix=True)
    except ValueError:
        tokens = text.split()
    values: dict[str, list[str]] = {k: [] for k in FILTER_KEYS}
    topic_words: list[str] = []
    problems: list[str] = []
    used = unread = read = 0
    for token in tokens:
        m = _FILTER.match(token)
        if not m or m.group(2).startswith("//"):
            topic_words.append(token)
            continue
        read += 1
        # A flood: the ack must not wait for thousands of checks.
        if read > max(MAX_READ_FILTERS, MAX_FILTERS):
            unread += 1
            continue
        key, value = m.group(1).lower(), m.group(2).strip()
        if key not in FILTER_KEYS:
            close = difflib.get_close_matches(key, FILTER_KEYS, n=1, cutoff=0.6)
            if close:
                problems.append(f"`{key}:` is not a filter. Did you mean `{close[0]}:`?")
            else:
                topic_words.append(token)
            continue
        if not value:
            problems.append(f"`{key}:` needs a value, like `{key}:{_example(key)}`.")
            continue
        used += 1
        if len(value) > MAX_FILTER_CHARS:
            problems.append(f"`{key}:{_code(value[:20])}\u2026` is {len(value):,} characters "
                            f"long; a filter value can have at most {MAX_FILTER_CHARS}.")
            continue
        values[key].append(value)
    if used > MAX_FILTERS or unread:
        # Past the words read one by one, the rest are counted as filters.
        problems.insert(0, f"That search has {used + unread:,} filters; use at most "
                           f"{MAX_FILTERS}.")
        values = {k: [] for k in FILTER_KEYS}

    emotions = []
    for value in values["emotion"]:
        v = value.lower()
        if v in EMOTIONS:
            emotions.append(v)
        else:
            close = difflib.get_close_matches(v, EMOTIONS, n=1, cutoff=0.6)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            problems.append(f"`emotion:{_code(value)}` is not an emotion voicebot knows ("
                            f"{', '.join(EMOTIONS)}).{hint}")
    sources = []
    for value in values["source"]:
        try:
            sources.append(parse_source_kind(value).value)
        except InvalidQuote as exc:
            problems.append(f"`source:{_code(value)}`: {_code(str(exc))}.")
    since = _last_date("since", values["since"], now, problems)
    before = _last_date("before", values["before"], now, problems)
    if since and before and since >= before:
        problems.append("`since:` must be earlier than `before:`.")
    new_user = _new_user(values["new"], problems)
    filters = Filters(segment=tuple(values["segment"]), company=tuple(values["company"]),
                      source=tuple(sources), emotion=tuple(emotions),
                      speaker=tuple(values["speaker"]), since=since, before=before,
                      new_user=new_user)
    topic = " ".join(topic_words).strip()
    return Query(topic=topic, raw=text.strip(), filters=filters, problems=_bounded(problems))


def _new_user(raw: list[str], problems: list[str]) -> bool | None:
    """`new:yes` / `new:no` (any case); anything else, or both at once, is a problem."""
    chosen: set[bool] = set()
    for value in raw:
        if value.lower() in NEW_VALUES:
            chosen.add(NEW_VALUES[value.lower()])
        else:
            problems.append(f"`new:{_code(value)}` must be `new:yes` (users whose account was "
                            f"under {NEW_USER_DAYS} days old when they wrote) or `new:no`.")
    if len(chosen) > 1:
        problems.append("`new:yes` and `new:no` together match nothing; use one.")
        return None
    return chosen.pop() if chosen else None


def _bounded(problems: list[str]) -> tuple[str, ...]:
    """The distinct problems, at most MAX_PROBLEMS of them and a count of the rest."""
    unique = list(dict.fromkeys(problems))
    if len(unique) <= MAX_PROBLEMS:
        return tuple(unique)
    rest = len(unique) - MAX_PROBLEMS
    return (*unique[:MAX_PROBLEMS], f"\u2026and {rest:,} more problem{'s' if rest > 1 else ''}.")


def topic_problem(topic: str, *, how: str = "/voice") -> str | None:
    """Why a topic cannot be searched, or None if it can; examples are written with ``how``
    (the command that searches: ``/voice`` in Slack, ``voicebot search`` in a terminal)."""
    if len(topic) > MAX_TOPIC_CHARS:
        return (f"That topic is {len(topic):,} characters long. Search with a few words "
                f"(at most {MAX_TOPIC_CHARS}), like `{how} export to CSV`.")
    meaningful = [ch for ch in topic if ch.isalnum() or unicodedata.category(ch) == "So"]
    if not meaningful:
        return (f"That topic has no words to search for. Try `{how} onboarding`"
                + (" or `/voice help`." if how == "/voice" else "."))
    if len(topic.strip()) < 2 and unicodedata.category(topic.strip()) != "So":
        return f"`{_code(topic.strip())}` is too short to search for. Use a word or two."
    return None


def _code(text: str) -> str:
    """User text echoed inside a code span: a backtick would end the span early, so it is
    shown as the look-alike U+02CB instead (``&<>`` are escaped where the reply is built)."""
    return text.replace("`", "\u02cb")


def _example(key: str) -> str:
    return {"segment": "enterprise", "company": "Acme", "source": "interview",
            "emotion": "frustrated", "speaker": "Dana", "since": "30d",
            "before": "2026-01-31", "new": "yes"}[key]


def _last_date(key: str, raw: list[str], now: datetime, problems: list[str]) -> datetime | None:
    if not raw:
        return None
    value = raw[-1]
    m = _SPAN.match(value.lower())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        days = n * {"d": 1, "w": 7, "m": 30, "y": 365}[unit]
        if days > 36500:
            problems.append(f"`{key}:{_code(value)}` reaches back more than a century.")
            return None
        return now - timedelta(days=days)
    try:
        parsed = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        problems.append(f"`{key}:{_code(value)}` is not a date. Use YYYY-MM-DD (like "
                        f"`{key}:2026-01-31`) or a span like `30d`, `6w`, `3m`, `1y`.")
        return None
    return parsed
