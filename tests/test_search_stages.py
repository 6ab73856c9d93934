"""SearchService's stage timer sees every stage, so bench/perf can never silently lose one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest

from bot.core.query import parse_query
from bot.core.search import NESTED, RECENT_STAGES, TOPIC_STAGES, SearchService
from store.models import SourceKind
from store.queries.quotes import NewQuote

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


class Recorder:
    """A Timer recording (stage, enclosing stage) in the order stages start."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.open: list[str] = []

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        self.seen.append((stage, self.open[-1] if self.open else None))
        self.open.append(stage)
        try:
            yield
        finally:
            assert self.open.pop() == stage

    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self.seen))


@pytest.fixture
def timed(services) -> tuple[SearchService, Recorder]:  # type: ignore[no-untyped-def]
    words = "The export button is impossible to find"
    for n, channel in enumerate(("C1", "C2", "C3")):  # the same words: a near-tie in rank
        services.capture.save(NewQuote(
            team_id="T1", text=words, source_kind=SourceKind.SLACK, speaker_name=f"Dana {n}",
            company="Acme", segment="smb", channel_id=channel, message_ts=f"17000000{n}.0001",
            said_at=datetime(2026, 1, 1 + n, tzinfo=timezone.utc)))
    services.capture.save(NewQuote(team_id="T1", text="Love the new reports", segment="smb",
                                  speaker_name="Kim"))
    recorder = Recorder()
    return SearchService(services.sessions, services.embedder, services.indexes,
                         timer=recorder), recorder


def test_a_topic_search_runs_every_stage_in_order(timed) -> None:  # type: ignore[no-untyped-def]
    search, recorder = timed
    result = search.search("T1", parse_query("export button impossible", now=NOW))
    assert result.hits and result.breadth.matches >= 1
    assert recorder.names() == list(TOPIC_STAGES)
    for name, parent in recorder.seen:
        assert parent == NESTED.get(name), (name, parent)
    assert not recorder.open


def test_a_filter_only_search_runs_every_recent_stage(timed) -> None:  # type: ignore[no-untyped-def]
    search, recorder = timed
    result = search.search("T1", parse_query("segment:smb", now=NOW))
    assert len(result.hits) == 4 and result.breadth.companies == 1
    assert recorder.names() == list(RECENT_STAGES)
    assert all(parent is None for _, parent in recorder.seen)


def test_the_timer_does_not_change_results(timed, services) -> None:  # type: ignore[no-untyped-def]
    search, _ = timed
    for text in ("export button impossible", "segment:smb", "reports company:acme"):
        query = parse_query(text, now=NOW)
        assert search.search("T1", query, channel_id="C1") == services.search.search(
            "T1", query, channel_id="C1")
