"""voicebot's vocabularies, each written once: the emotions a quote can carry and the sources
it can come from. Parsing, filters, modals, the emotion head and the renderers all read
these."""

from __future__ import annotations

import enum

from store.errors import InvalidQuote

#: The tag of a quote whose speaker's account was under :data:`NEW_USER_DAYS` days old when
#: they said it (support-desk imports); the `new:yes` / `new:no` filter reads it.
NEW_USER_TAG = "new_user"
NEW_USER_DAYS = 30

#: The emotion head's classes, in its output order; also the `emotion:` filter's values.
EMOTIONS: tuple[str, ...] = ("frustrated", "confused", "delighted", "disappointed", "neutral")


class SourceKind(str, enum.Enum):
    """Where a quote was heard."""

    SLACK = "slack"
    INTERVIEW = "interview"
    SUPPORT_TICKET = "support_ticket"
    SURVEY = "survey"
    SALES_CALL = "sales_call"
    OTHER = "other"

    @property
    def label(self) -> str:
        """How people read it: "Support ticket"."""
        return self.value.replace("_", " ").capitalize()


#: Other names people use for a source (imports, filters).
SOURCE_ALIASES: dict[str, SourceKind] = {
    **{kind.value: kind for kind in SourceKind},
    "support": SourceKind.SUPPORT_TICKET, "ticket": SourceKind.SUPPORT_TICKET,
    "support ticket": SourceKind.SUPPORT_TICKET, "nps": SourceKind.SURVEY,
    "sales": SourceKind.SALES_CALL, "sales call": SourceKind.SALES_CALL,
    "call": SourceKind.SALES_CALL, "": SourceKind.OTHER,
}


def parse_source_kind(value: str | None) -> SourceKind:
    """A source from what someone typed (case, ``-``/``_``/space and aliases forgiven)."""
    key = (value or "").strip().lower().replace("-", "_")
    kind = SOURCE_ALIASES.get(key) or SOURCE_ALIASES.get(key.replace("_", " "))
    if kind is None:
        choices = ", ".join(k.value for k in SourceKind)
        raise InvalidQuote(f"unknown source {value!r}; use one of {choices}")
    return kind
