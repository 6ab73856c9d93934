"""Which stored quote a re-imported row is, so a corrected file updates instead of adding.

A row is the stored quote with the same re-import key (``NewQuote.dedupe_key``: the row's
``id`` within its file name, its Slack message, its exported ``key``, or for other rows a hash
of words and attribution). A row whose key is not stored and that has no stable id is
matched on its exact words among the quotes imported without one:

1. from the same file name, first stored first (so two people saying the same words in one
   file stay two quotes);
2. else from another file (or from before imports were recorded) when the speaker is the
   same person or one of the two has no speaker.

A matched row updates that quote's attribution (:data:`store.queries.imports.ATTRIBUTION`);
words that changed are new words, so a row without an id whose words were corrected is a
new quote (the old one stays; ``voicebot imports undo`` or a deletion removes it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timezone

from store.policy import normalize_key
from store.queries.imports import Stored
from store.queries.quotes import NewQuote


@dataclass(frozen=True)
class Pairing:
    item: NewQuote
    stored: Stored | None  # None: a new quote

    @property
    def changes(self) -> dict[str, object]:
        """The attribution columns whose value differs from the stored quote's."""
        if self.stored is None:
            return {}
        new = attribution(self.item)
        return {k: v for k, v in new.items() if self.stored.attribution.get(k) != v}


def attribution(item: NewQuote) -> dict[str, object]:
    said = item.said_at
    if said is not None:
        said = said.astimezone(timezone.utc) if said.tzinfo else said.replace(
            tzinfo=timezone.utc)
    return {"speaker_name": item.speaker_name, "company": item.company,
            "segment": item.segment, "source_kind": item.source_kind.value,
            "source_url": item.source_url, "said_at": said, "tags": list(item.tags)}


def _content_keyed(item: NewQuote) -> bool:
    return item.dedupe_key.startswith("sha256:")


def _name(stored: Stored) -> str | None:
    name = stored.attribution.get("speaker_name")
    return name if isinstance(name, str) else None


def _same_person(a: str | None, b: str | None) -> bool:
    return a is None or b is None or normalize_key(a) == normalize_key(b)


def pair(items: Sequence[NewQuote], by_key: Mapping[str, Stored],
         by_words: Mapping[str, Sequence[Stored]], file_name: str | None) -> list[Pairing]:
    """Each item with the stored quote it is (or None), each stored quote used once."""
    claimed: set[int] = set()
    found: dict[int, Stored] = {}
    for i, item in enumerate(items):  # exact keys first: they never lose their quote
        stored = by_key.get(item.dedupe_key)
        if stored is not None and stored.id not in claimed:
            found[i] = stored
            claimed.add(stored.id)
    for i, item in enumerate(items):
        if i in found or not _content_keyed(item):
            continue
        free = [s for s in by_words.get(item.text, ()) if s.id not in claimed]
        same_file = [s for s in free if file_name is not None and s.file_name == file_name]
        others = [s for s in free if _same_person(_name(s), item.speaker_name)]
        chosen = same_file or others
        if chosen:
            choice = chosen[0]
            found[i] = choice
            claimed.add(choice.id)
    return [Pairing(item, found.get(i)) for i, item in enumerate(items)]

