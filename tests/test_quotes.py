"""Saving, deduplicating, editing and deleting quotes, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
from sqlalchemy import select

from bot.core.imports import RowProblem
from store.errors import InvalidQuote
from store.models import MAX_QUOTE_CHARS, Quote, QuoteRevision, SourceKind
from store.queries.quotes import NewQuote


def slack_quote(text: str = "Exporting to CSV takes forever", **kw) -> NewQuote:  # type: ignore[no-untyped-def]
    base = dict(team_id="T1", text=text, source_kind=SourceKind.SLACK, speaker_name="Dana",
                speaker_user_id="U9", channel_id="C1", message_ts="1700000000.000100",
                captured_by="U2")
    base.update(kw)
    return NewQuote(**base)


def test_save_keeps_the_exact_words_and_attribution(services) -> None:  # type: ignore[no-untyped-def]
    text = "  The export   button?? 🤔 It's\n hidden — again.  "
    said = datetime(2026, 3, 2, 15, 30, tzinfo=timezone.utc)
    result = services.capture.save(slack_quote(text, said_at=said, company="Acme",
                                              segment="enterprise", tags=("export", "export")))
    assert result.created
    stored = services.lookup.get("T1", result.quote.id)
    assert stored.text == text
    assert (stored.speaker_name, stored.company, stored.segment) == ("Dana", "Acme", "enterprise")
    assert stored.said_at == said and stored.tags == ("export",)
    assert stored.source_kind == "slack" and stored.embedding_model == "hashing-test"
    assert result.quote.id in services.indexes.get("T1")


def test_one_quote_per_team_channel_message(services) -> None:  # type: ignore[no-untyped-def]
    first = services.capture.save(slack_quote())
    again = services.capture.save(slack_quote(captured_by="U3"))
    assert not again.created and again.quote.id == first.quote.id
    other_team = services.capture.save(slack_quote(team_id="T2"))
    assert other_team.created and other_team.quote.id != first.quote.id
    with services.sessions() as s:
        assert len(s.scalars(select(Quote)).all()) == 2
    assert len(services.indexes.get("T1")) == 1 and len(services.indexes.get("T2")) == 1


@pytest.mark.parametrize("text, message", [
    ("", "empty"), ("   \n\t ", "empty"), ("x" * (MAX_QUOTE_CHARS + 1), "Slack messages hold"),
    ("nul\x00byte", "NUL"),
])
def test_bad_text_is_refused_with_a_reason(services, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidQuote, match=message):
        services.capture.save(slack_quote(text))
    with services.sessions() as s:
        assert s.scalars(select(Quote)).all() == []


def test_import_twice_adds_nothing(services) -> None:  # type: ignore[no-untyped-def]
    rows = [(i + 2, NewQuote(team_id="T1", text=f"quote number {i}", speaker_name=f"P{i % 3}"))
            for i in range(40)]
    rows.append((50, RowProblem(50, "not valid JSON")))
    rows.append((51, NewQuote(team_id="T1", text="   ")))
    first = services.imports.import_quotes(rows, batch_size=16)
    assert (first.added, first.duplicates) == (40, 0)
    assert [p.line for p in first.rejected] == [50, 51]
    second = services.imports.import_quotes(rows, batch_size=16)
    assert (second.added, second.duplicates) == (0, 40)
    assert len(services.indexes.get("T1")) == 40


def test_import_collapses_duplicates_inside_one_file(services) -> None:  # type: ignore[no-untyped-def]
    same = NewQuote(team_id="T1", text="I want dark mode", speaker_name="Ana")
    summary = services.imports.import_quotes([(2, same), (3, same)])
    assert (summary.added, summary.duplicates) == (1, 1)


def test_edit_keeps_history_and_updates_vector(services) -> None:  # type: ignore[no-untyped-def]
    saved = services.capture.save(slack_quote("billing page is confusing")).quote
    edited = services.edits.edit_message("T1", "C1", "1700000000.000100",
                                          "billing page is confusing and slow")
    assert edited is not None and edited.text.endswith("and slow") and edited.revisions == 1
    with services.sessions() as s:
        history = s.scalars(select(QuoteRevision.text)).all()
    assert history == ["billing page is confusing"]
    vec = services.indexes.get("T1").vectors([saved.id])[0]
    expected = services.embedder.encode(["billing page is confusing and slow"])[0]
    assert np.allclose(vec, expected)


def test_delete_message_removes_quote_and_index_entry(services) -> None:  # type: ignore[no-untyped-def]
    saved = services.capture.save(slack_quote()).quote
    assert services.deletion.delete_message("T1", "C1", "1700000000.000100")
    assert services.lookup.get("T1", saved.id) is None
    assert saved.id not in services.indexes.get("T1")
    assert not services.deletion.delete_message("T1", "C1", "1700000000.000100")


def test_team_scoping_on_reads_and_deletes(services) -> None:  # type: ignore[no-untyped-def]
    saved = services.capture.save(slack_quote()).quote
    assert services.lookup.get("T2", saved.id) is None
    assert not services.deletion.delete("T2", saved.id, by="U1")
    assert services.lookup.get("T1", saved.id) is not None


def test_same_words_captured_twice_are_one_voice(services) -> None:  # type: ignore[no-untyped-def]
    from bot.core.query import parse_query

    first = services.capture.save(slack_quote("The export button is impossible to find")).quote
    again = services.capture.save(slack_quote("The export button is impossible to find!",
                                             channel_id="C2", message_ts="2.2")).quote
    other = services.capture.save(slack_quote("Love the new reports", message_ts="3.3")).quote
    assert first.voice_id is None and again.voice_id == first.id and other.voice_id is None
    result = services.search.search("T1", parse_query("export button impossible"))
    shown = [h.quote.id for h in result.hits]
    assert len({first.id, again.id} & set(shown)) == 1 and other.id in shown  # shown once
    assert result.hits[0].also == 1
    assert result.breadth.matches <= 2  # the twice-captured words count once
    services.deletion.delete("T1", first.id, by="U1")
    assert services.lookup.get("T1", again.id).voice_id is None  # now the first capture


def test_recapture_inside_a_longer_paste_is_the_same_voice(services) -> None:  # type: ignore[no-untyped-def]
    words = "Honestly the sync keeps dropping my calendar invites every week"
    first = services.capture.save(slack_quote(words)).quote
    pasted = services.capture.save(NewQuote(
        team_id="T1", text=f"From ticket #4411: “{words}.” Customer on the Pro plan.",
        source_kind=SourceKind.SUPPORT_TICKET)).quote
    assert pasted.voice_id == first.id


def test_the_tally_counts_quotes_that_name_no_company(services) -> None:  # type: ignore[no-untyped-def]
    """"24 people at 1 company" must not be said of 24 people of whom one named a company:
    the database's one tally statement says how many counted quotes name none."""
    from store.queries import search as sq

    named = services.capture.save(slack_quote("Export is slow", company="Acme")).quote
    bare = services.capture.save(slack_quote("Export is slow for us too", message_ts="2.2",
                                             company=None)).quote
    blank = services.capture.save(slack_quote("Export keeps timing out", message_ts="3.3",
                                              company="")).quote
    with services.sessions() as session:
        both = sq.tally(session, "T1", [named.id, bare.id, blank.id])
        one = sq.tally(session, "T1", [named.id])
    assert (both.voices, both.companies, both.unnamed) == (3, 1, 2)
    assert (one.voices, one.companies, one.unnamed) == (1, 1, 0)


def test_captures_keep_no_normalized_words_but_imports_do(services) -> None:  # type: ignore[no-untyped-def]
    """Linking a captured quote to earlier captures of the same words keeps nothing for later
    (a server captures for months); an import's batches keep words for the next batch."""
    first = services.capture.save(slack_quote("The export button is impossible to find")).quote
    again = services.capture.save(slack_quote("The export button is impossible to find!",
                                             channel_id="C2", message_ts="2.2")).quote
    assert again.voice_id == first.id  # linked, so the words were compared
    linker = services.imports.vectors
    assert not linker._normalized
    services.imports.import_quotes(
        [(2, NewQuote(team_id="T1", text="The export button is impossible to find",
                      speaker_name="Ana", source_kind=SourceKind.SURVEY)),
         (3, NewQuote(team_id="T1", text="Dark mode please", speaker_name="Bo",
                      source_kind=SourceKind.SURVEY))])
    assert linker._normalized  # the import's batch compared words and kept them
