"""What keeps the server's memory from growing with traffic or data (bench/LOAD.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.vectors import Encoder
from bot.slack.directory import Directory
from store import db
from store.retrieval.embeddings import HashingEmbedder, SentenceTransformerEmbedder
from store.retrieval.emotion import load_reader


class FakeClient:
    def __init__(self) -> None:
        self.calls = 0

    def users_info(self, user: str) -> dict:
        self.calls += 1
        return {"user": {"id": user, "real_name": f"Person {user}", "team_id": "T1"}}

    def conversations_info(self, channel: str) -> dict:
        self.calls += 1
        return {"channel": {"id": channel, "is_private": False}}


def test_directory_caches_hold_at_most_max_entries() -> None:
    directory = Directory(max_entries=10)
    client = FakeClient()
    for n in range(50):
        directory.user(client, "T1", f"U{n}")
        directory.member(client, "T1", f"U{n}")
        directory.conversation(client, "T1", f"C{n}")
    assert directory.cached() == 30  # 10 people, 10 roles, 10 conversations
    calls = client.calls
    directory.user(client, "T1", "U49")  # the newest entries are the ones kept
    directory.conversation(client, "T1", "C49")
    assert client.calls == calls
    directory.user(client, "T1", "U0")  # the oldest were dropped
    assert client.calls == calls + 1
    assert directory.cached() == 30


def test_sqlite_connections_get_a_bounded_page_cache(tmp_path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA cache_size")).scalar() == -db.SQLITE_CACHE_KIB
    finally:
        engine.dispose()


def test_warm_up_pages_in_the_model_weights() -> None:
    class Touching(HashingEmbedder):
        touched = 0

        def touch_weights(self) -> int:
            self.touched += 1
            return 0

    embedder = Touching()
    Encoder(embedder).warm_up()
    assert embedder.touched == 1
    Encoder(HashingEmbedder()).warm_up()  # embedders without mapped weights are fine


def _anonymous_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise AssertionError("no RssAnon in /proc/self/status")


@pytest.mark.model
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_new_input_lengths_do_not_grow_the_server() -> None:
    """oneDNN kept a compiled kernel (about 600 KiB resident) per new token count, so each
    quote or question of a length not seen before grew the server; torch's own kernels
    keep nothing per shape (bench/LOAD.md, section 5)."""
    import torch

    embedder = SentenceTransformerEmbedder()
    assert torch.backends.mkldnn.enabled is False
    encoder = Encoder(embedder, load_reader(embedder))  # as the server encodes captures
    encoder.warm_up()
    words = "the card never arrived and support kept telling me to wait".split()
    texts = [" ".join(words[i % len(words)] for i in range(n)) for n in range(1, 61)]
    encoder.encode(texts[-1:])  # the longest first: later lengths fit the heap it grew
    before = _anonymous_kib()
    for said in texts[:-1]:  # 59 token counts never encoded alone before
        encoder.encode([said])
        embedder.encode([said])  # as /voice encodes questions
    grown = _anonymous_kib() - before
    assert grown < 12 * 1024, f"{grown} KiB for 59 new input lengths (about 16 MiB with oneDNN)"


def test_evidence_lists_of_any_length_share_a_few_statements(tmp_path) -> None:
    """A search reads every match's evidence in one IN (...) list whose length grows with the
    stored quotes; each new length was a new SQL text, and Python's sqlite3 kept a prepared
    statement for each (up to 128 per pooled connection, ~20 MiB at 1,000 ids): the server
    grew with every stored quote (bench/LOAD.md, section 7). The search now binds its id lists
    as one parameter, so its statement text never changes."""
    from sqlalchemy import event

    from store.models import Base
    from store.queries import search

    engine = db.make_engine(f"sqlite:///{tmp_path / 's.db'}")
    Base.metadata.create_all(engine)
    seen: set[str] = set()
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: seen.add(statement))
    try:
        with db.make_session_factory(engine)() as session:
            for n in range(1, 301):
                ids = list(range(1, n + 1))
                search.views_and_tally(session, "T1", ids[:5], ids)
                search.tally(session, "T1", ids)
    finally:
        engine.dispose()
    assert len(seen) <= 40, f"{len(seen)} distinct statements for 300 list lengths"


def test_padded_lists_keep_their_values() -> None:
    from store.queries.id_lists import padded, padded_chunks

    assert padded([]) == []
    assert padded([3, 1]) == [3, 1, 1, 1, 1, 1, 1, 1]
    assert len(padded(range(9))) == 16 and set(padded(range(9))) == set(range(9))
    chunks = padded_chunks(list(range(10)), 4)
    assert [len(c) for c in chunks] == [8, 8, 8]
    assert sorted(set().union(*chunks)) == list(range(10))
