"""The normalized words NewVectors keeps between import batches stay bounded in a server."""

from __future__ import annotations

import pytest

import bot.core.vectors as vectors
from bot.core.vectors import NewVectors
from store.retrieval.ranking import normalize_text


def test_the_words_kept_are_bounded_and_the_least_recently_used_go(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "NORMALIZED_KEPT", 3)
    new = NewVectors(sessions=None, indexes=None)  # type: ignore[arg-type]  # _words only
    for i in range(1, 4):
        assert new._words(i, f"Export #{i} is SLOW") == normalize_text(f"Export #{i} is SLOW")
    new._words(1, "Export #1 is SLOW")  # used again: kept
    new._words(4, "Café export")
    assert list(new._normalized) == [3, 1, 4]  # 2, the least recently used, went
    assert new._words(1, "Edited words") == "edited words"  # an edited text is read again
    for i in range(100, 1000):
        new._words(i, "x")
    assert len(new._normalized) == 3


def test_a_single_capture_keeps_no_words() -> None:
    """A captured quote (one at a time, in a server that runs for months) is normalized and
    forgotten; only an import's batches keep words for the next batch."""
    new = NewVectors(sessions=None, indexes=None)  # type: ignore[arg-type]  # _words only
    assert new._words(7, "Export is SLOW", keep=False) == "export is slow"
    assert not new._normalized
