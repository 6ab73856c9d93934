"""Re-importing a corrected file (issue 12 §4): rows that are stored quotes update their
attribution instead of being added again; corrected words are a new quote unless the row
has a stable `id`; every import is recorded."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bot.core.import_log import ImportRun
from bot.core.importing import parse_file
from store.queries import quotes as q
from store.queries.quotes import NewQuote, QuoteView

PEOPLE = [("ana ruiz", "Acme", "smb"), ("Bo Chen", "Beta Ltd", "enterprise"),
          ("cy dube", "Cobalt", "smb"), ("Di Park", "Delta", "mid-market"),
          ("Eli Nour", "Eon", "smb")]
WORDS = [
    "I export to Excel every Friday, and it breaks the formulas.",
    "The onboarding checklist never told me about SSO.",
    "Honestly? I gave up on the mobile app.",
    "We pay for seats nobody uses.",
    "Search finds nothing if I misspell a name.",
    "I want the weekly digest on Monday morning.",
    "The audit log stops after ninety days.",
    "Nobody answers the chat after 5pm.",
    "Our finance team can't read the invoice PDF.",
    "It took me a week to find the API token page.",
    "The Slack alerts arrive twice when a deal closes.",
    "I can't tell which report is the latest one.",
    "Permissions are all or nothing, so everyone is admin.",
    "We copy numbers by hand into the board deck.",
    "The import choked on our Swedish customer names: Åsa, Örjan.",
    "Dark mode would save my eyes at 2am.",
    "Renewal quotes come in euros, but we pay in dollars.",
    "Every time I log in it asks for the same survey.",
    "The calender view doesnt show holidays.",  # typos, corrected in v2
    "Exports time out when we have more then 10k rows.",
    "Support closed my ticket without an answer.",
    "I'd pay more for an audit trail we can export.",
    "The mobile app logs me out every morning.",
    "Onboarding, honestly, was the best part.",
    "We need SAML, not just Google sign-in.",
]
CORRECTED = {18: "The calendar view doesn't show holidays.",
             19: "Exports time out when we have more than 10k rows.",
             20: "Support closed my ticket without an answer!"}


def notes_v1(with_id: bool = False) -> list[dict[str, str]]:
    rows = []
    for i, words in enumerate(WORDS):
        speaker, company, segment = PEOPLE[i % len(PEOPLE)]
        row = {"date": f"{(i % 28) + 1:02d}/10/2026", "speaker": speaker, "company": company,
               "segment": segment, "source": "interview", "text": words}
        rows.append({"id": f"R{i + 1:03d}", **row} if with_id else row)
    return rows


def notes_v2(with_id: bool = False) -> list[dict[str, str]]:
    """The same notes after a colleague cleaned them up: 17 rows' attribution corrected
    (speaker names capitalised, companies' legal names, a date fixed, segments), three rows'
    words corrected, two rows added."""
    rows = notes_v1(with_id)
    for i in range(17):
        row = rows[i]
        row["speaker"] = row["speaker"].title()
        row["company"] = row["company"] + " Inc."
        if i % 3 == 0:
            row["segment"] = "enterprise"
        if i == 4:
            row["date"] = "31/10/2026"
    for i, words in CORRECTED.items():
        rows[i]["text"] = words
    rows.append({**({"id": "R026"} if with_id else {}), "date": "30/10/2026",
                 "speaker": "Fay Lind", "company": "Fjord", "segment": "smb",
                 "source": "interview", "text": "Please keep the old export button."})
    rows.append({**({"id": "R027"} if with_id else {}), "date": "30/10/2026",
                 "speaker": "Gus Amo", "company": "Gale", "segment": "smb",
                 "source": "webinar", "text": "The webinar skipped the API part."})
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def run_import(services, path: Path, team: str = "T1"):  # type: ignore[no-untyped-def]
    parsed = parse_file(path, team_id=team)
    run = services.import_log.begin(team, kind=parsed.format, file_name=path.name, by="test")
    summary = services.imports.import_quotes(parsed.rows, run=run, batch_size=7)
    services.import_log.finish(run, added=summary.added, updated=summary.updated,
                               unchanged=summary.unchanged, rejected=len(summary.rejected))
    return run, summary


def stored(services, team: str = "T1") -> list[QuoteView]:  # type: ignore[no-untyped-def]
    with services.sessions() as session:
        views = q.views(session, team, q.ids(session, team))
    return [views[i] for i in sorted(views)]


def counts(summary) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    return summary.added, summary.updated, summary.unchanged, len(summary.rejected)


def test_corrected_file_updates_attribution_instead_of_duplicating(services,  # type: ignore[no-untyped-def]
                                                                   tmp_path: Path) -> None:
    path = write_csv(tmp_path / "interview-notes.csv", notes_v1())
    _, first = run_import(services, path)
    assert counts(first) == (25, 0, 0, 0)
    before = {v.text: v for v in stored(services)}

    write_csv(path, notes_v2())
    _, second = run_import(services, path)
    # 17 corrected attributions update their quotes; 3 rows with corrected words and 2 new
    # rows are new quotes; the 5 rows nobody touched are unchanged
    assert counts(second) == (5, 17, 5, 0)
    after = stored(services)
    assert len(after) == 30
    by_text = {v.text: v for v in after}
    ana = by_text[WORDS[0]]
    assert ana.id == before[WORDS[0]].id  # the same quote, not a copy
    assert (ana.speaker_name, ana.company, ana.segment) == ("Ana Ruiz", "Acme Inc.",
                                                           "enterprise")
    assert by_text[WORDS[4]].said_at is not None and by_text[WORDS[4]].said_at.day == 31
    # corrected words without an id are a new quote; the old words stay (undo or delete)
    for i, words in CORRECTED.items():
        assert by_text[words].id not in {v.id for v in before.values()}
        assert WORDS[i] in by_text
    assert by_text["The webinar skipped the API part."].tags == ("source=webinar",)

    _, third = run_import(services, path)  # the corrected file again: nothing to do
    assert counts(third) == (0, 0, 27, 0)
    assert len(stored(services)) == 30


def test_a_stable_id_lets_corrected_words_update_the_quote(services,  # type: ignore[no-untyped-def]
                                                           tmp_path: Path) -> None:
    path = write_csv(tmp_path / "notes.csv", notes_v1(with_id=True))
    run_import(services, path)
    before = {v.text: v.id for v in stored(services)}
    write_csv(path, notes_v2(with_id=True))
    _, summary = run_import(services, path)
    assert counts(summary) == (2, 20, 5, 0)
    after = stored(services)
    assert len(after) == 27
    by_text = {v.text: v for v in after}
    for i, words in CORRECTED.items():
        quote = by_text[words]
        assert quote.id == before[WORDS[i]] and quote.revisions == 1
        assert WORDS[i] not in by_text
    # the index follows: the corrected words are found by their new vector
    hits = services.indexes.get("T1").search_many(
        services.embedder.encode([CORRECTED[18]]), 1)[0]
    assert hits[0][0] == before[WORDS[18]]


def test_same_words_twice_in_one_file_stay_two_voices(services,  # type: ignore[no-untyped-def]
                                                      tmp_path: Path) -> None:
    rows = [{"speaker": "Ana", "text": "Pricing is confusing."},
            {"speaker": "Bo", "text": "Pricing is confusing."}]
    path = write_csv(tmp_path / "short.csv", rows)
    run_import(services, path)
    rows[1]["speaker"] = "Bo Chen"
    write_csv(path, rows)
    _, summary = run_import(services, path)
    assert counts(summary) == (0, 1, 1, 0)
    assert sorted(v.speaker_name or "" for v in stored(services)) == ["Ana", "Bo Chen"]


def test_same_words_from_another_file_and_person_are_not_overwritten(services,  # type: ignore[no-untyped-def]
                                                                     tmp_path: Path) -> None:
    run_import(services, write_csv(tmp_path / "a.csv", [
        {"speaker": "Ana", "text": "Too expensive."},
        {"speaker": "", "text": "Search is slow."}]))
    _, summary = run_import(services, write_csv(tmp_path / "b.csv", [
        {"speaker": "Bo", "text": "Too expensive."},  # someone else said it too
        {"speaker": "Cy", "text": "Search is slow."}]))  # the unnamed speaker, now named
    assert counts(summary) == (1, 1, 0, 0)
    got = sorted((v.text, v.speaker_name or "") for v in stored(services))
    assert got == [("Search is slow.", "Cy"), ("Too expensive.", "Ana"),
                   ("Too expensive.", "Bo")]


def test_reimport_never_changes_privacy_or_slack_quotes_words(services) -> None:  # type: ignore[no-untyped-def]
    saved = services.capture.save(NewQuote(
        team_id="T1", text="Our churn doubled after the price change.", speaker_name="Ana",
        channel_id="G123", message_ts="1700000000.000100", is_private=True,
        source_kind=q.SourceKind.SLACK, captured_by="U1"))
    assert saved.quote is not None
    row = NewQuote(team_id="T1", text="Our churn doubled after the price change.",
                   speaker_name="Ana Ruiz", company="Acme", channel_id="G123",
                   message_ts="1700000000.000100", is_private=False,
                   source_kind=q.SourceKind.SLACK)
    summary = services.imports.import_quotes([(2, row)])
    assert counts(summary) == (0, 1, 0, 0)
    (quote,) = stored(services)
    assert (quote.speaker_name, quote.company) == ("Ana Ruiz", "Acme")
    assert quote.is_private and quote.channel_id == "G123"  # privacy is never loosened


def test_bad_origin_values_reject_the_row_and_keep_the_others(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", [
        {"text": "Fine words", "private": "true", "char_start": "3"},
        {"text": "Other words", "private": "maybe", "char_start": ""},
        {"text": "More words", "private": "", "char_start": "x"}])
    parsed = parse_file(path, team_id="T1")
    good = [r for _, r in parsed.rows if isinstance(r, NewQuote)]
    assert len(good) == 1 and good[0].is_private and good[0].char_start == 3
    problems = [(line, r.reason) for line, r in parsed.rows if not isinstance(r, NewQuote)]
    assert problems == [(3, "`private` must be true or false, not 'maybe'"),
                        (4, "`char_start` must be a number, not 'x'")]


@pytest.mark.parametrize("name", ["notes.jsonl"])
def test_jsonl_ids_are_scoped_by_file_name(services, tmp_path: Path,  # type: ignore[no-untyped-def]
                                           name: str) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder, words in (("a", "First file's words"), ("b", "Second file's words")):
        (tmp_path / folder / name).write_text(f'{{"id": 1, "text": "{words}"}}\n')
    run_import(services, tmp_path / "a" / name)
    _, summary = run_import(services, tmp_path / "b" / name)
    # the same file name and id: the row with new words is that quote, corrected
    assert counts(summary) == (0, 1, 0, 0)
    (tmp_path / "c.jsonl").write_text('{"id": 1, "text": "Third file"}\n')
    _, other = run_import(services, tmp_path / "c.jsonl")
    assert counts(other) == (1, 0, 0, 0)  # another file's id 1 is another row
    assert sorted(v.text for v in stored(services)) == ["Second file's words", "Third file"]


def test_import_run_is_recorded_with_counts(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "interview-notes.csv", notes_v1())
    run, _ = run_import(services, path)
    assert isinstance(run, ImportRun)
    write_csv(path, notes_v2())
    run_import(services, path)
    second, first = services.import_log.listing("T1")
    assert (first.id, first.kind, first.file_name, first.run_by) == \
        (run.id, "csv", "interview-notes.csv", "test")
    assert (first.added, first.updated, first.unchanged, first.rejected) == (25, 0, 0, 0)
    assert (second.added, second.updated, second.unchanged, second.rejected) == (5, 17, 5, 0)
    assert first.present == 25 and second.present == 5
    assert first.finished_at is not None


def test_rows_repeating_earlier_words_in_one_import_are_their_voice(services) -> None:  # type: ignore[no-untyped-def]
    first = services.capture.save(NewQuote(team_id="T1", text=WORDS[3],
                                           speaker_name="Ana")).quote
    rows = [NewQuote(team_id="T1", text=words, speaker_name=who) for words, who in (
        (WORDS[3] + "!", "Bo"), (WORDS[4], "Cy"), (WORDS[4].upper(), "Di"),
        (WORDS[5], "Eli"), (WORDS[3].lower(), "Fay"))]
    summary = services.imports.import_quotes(list(enumerate(rows, 1)), batch_size=4)
    assert summary.added == 5
    voice = {v.text: v.voice_id for v in stored(services)}
    assert voice[WORDS[3]] is None and voice[WORDS[3] + "!"] == first.id
    assert voice[WORDS[3].lower()] == first.id
    assert voice[WORDS[4]] is None and voice[WORDS[5]] is None
    assert voice[WORDS[4].upper()] == next(v.id for v in stored(services)
                                           if v.text == WORDS[4])


def test_batch_insert_writes_what_one_insert_per_statement_writes(services,  # type: ignore[no-untyped-def]
                                                                   monkeypatch) -> None:
    """PostgreSQL adds an import's batch with COPY: every column reads back as the INSERT
    path (the one other databases use) writes it; the ids follow the rows' order."""
    from datetime import datetime, timezone

    from sqlalchemy import select

    from store.models import Quote
    from store.queries import new_quotes

    said = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=timezone.utc)
    now = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    items = [
        NewQuote(team_id="T1", text="Tabs\tnew\nlines \\ back\\slash, “quotes” and 😤",
                 speaker_name="Åsa Öberg", company=None, segment="smb", tags=("a", "b c"),
                 said_at=said, emotion="frustrated", emotion_confidence=0.8125,
                 emotion_model="head-1", source_kind=q.SourceKind.SUPPORT_TICKET,
                 source_url="https://example.com/t/1?a=1&b=2", is_private=True,
                 shareable=True, first_hand=False, relayed_by="U9", captured_by="U1",
                 start_seconds=12.5, char_start=3, char_end=40, transcript_key="tk",
                 source_html="<p>Tabs</p>"),
        NewQuote(team_id="T1", text="\\N is not NULL", channel_id="C1", message_ts="1.5"),
        NewQuote(team_id="T1", text="empty tags, no vector"),
    ]

    def add(prefix: str, copy: bool) -> list[int]:
        if not copy:
            monkeypatch.setattr(new_quotes, "_copyable", lambda *a: False)
        rows = [q.to_row(q.NewQuote(**{**it.__dict__, "team_id": prefix}),
                         embedding=None if n == 2 else bytes(range(n, n + 16)),
                         model=None if n == 2 else "m", now=now)
                for n, it in enumerate(items)]
        with services.sessions.begin() as session:
            ids = new_quotes.add_many(session, rows)
        monkeypatch.undo()
        return ids

    copied, inserted = add("TA", copy=True), add("TB", copy=False)
    assert copied == sorted(copied) and len(set(copied)) == 3

    def read(ids: list[int]) -> list[dict[str, object]]:
        with services.sessions() as session:
            got = {r.id: r for r in session.scalars(select(Quote).where(Quote.id.in_(ids)))}
        skip = {"id", "team_id", "updated_at", "revisions"}
        return [{k: v for k, v in vars(got[i]).items()
                 if not k.startswith("_") and k not in skip} for i in ids]

    assert read(copied) == read(inserted)
    assert read(copied)[0]["text"] == items[0].text and read(copied)[1]["text"] == "\\N is not NULL"
