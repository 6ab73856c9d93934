"""`voicebot export` writes every quote with its full attribution; importing the file into a
fresh database (SQLite and PostgreSQL) gives the same quotes, words byte-identical."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.quote_columns import EXPORT_COLUMNS, guard_cell, record, unguard_cell
from bot.core.transcript_imports import TranscriptOptions, choose_users, to_quotes
from bot.core.transcripts import read
from store.queries import imports as import_queries
from store.queries.quotes import NewQuote, SourceKind
from store.retrieval.embeddings import HashingEmbedder
from tests.test_reimport import stored

ZOOM = Path(__file__).resolve().parent / "data" / "transcripts" / \
    "GMT20260312-150102_Recording.transcript.vtt"

#: Words a CSV or a spreadsheet gets wrong: formulas, quotes, separators, line breaks of
#: every kind, right-to-left and combining text, emoji with joiners, a BOM-like character.
ODD = [
    "=cmd|' /C calc'!A0",
    "'=already quoted, still words",
    "+1 for dark mode; -1 for the new logo, @mentions are noisy",
    "-- this is how I \"start\" every note, with commas, too",
    "Line one\nline two\r\nline three\rline four\u2028line five\u2029end",
    "\tindented with a tab",
    "שלום, the RTL text (עברית) mixes with English",
    "e\u0301te\u0301 (combining accents) vs \u00e9t\u00e9",
    "Family: 👩\u200d👩\u200d👧 and flags 🇸🇪, zero width\u200bspace",
    "\ufeffstarts with a BOM character",
    "   surrounded by spaces   ",
]


def fill(services) -> None:  # type: ignore[no-untyped-def]
    """A workspace with quotes from every origin: imported rows, Slack captures (one from a
    private channel and made shareable, one relayed), and transcript passages."""
    rows = [(i + 2, NewQuote(team_id="T1", text=text, speaker_name=f"Speaker {i}, Jr.",
                             company="Acme \"Intl\"", segment="smb",
                             source_kind=SourceKind.SURVEY, source_url=f"https://x.example/{i}",
                             said_at=None if i % 2 else datetime(2026, 10, i + 1, 9, 30,
                                                                 tzinfo=timezone.utc),
                             tags=("q4", "source=webinar, spring", f"note={text[:5]}"),
                             captured_by="import"))
            for i, text in enumerate(ODD)]
    assert services.imports.import_quotes(rows).added == len(ODD)
    private = services.capture.save(NewQuote(
        team_id="T1", text="Churn doubled after the price change.", speaker_name="Ana Ruiz",
        speaker_user_id="U_ANA", speaker_team_id="T_ACME", channel_id="G_PRIV",
        message_ts="1700000000.000100", thread_ts="1699999999.000001", is_private=True,
        source_kind=SourceKind.SLACK, captured_by="U_PM", is_excerpt=True))
    services.edits.update_details("T1", private.quote.id, shareable=True)
    services.capture.save(NewQuote(
        team_id="T1", text="A customer told me the invoice total is wrong.",
        speaker_name="Bo Chen", first_hand=False, relayed_by="U_CSM", channel_id="C_PUB",
        message_ts="1700000001.000200", source_kind=SourceKind.SLACK, captured_by="U_CSM"))
    transcript = read(ZOOM, ZOOM.read_text(encoding="utf-8"), None)
    quotes = to_quotes(ZOOM, transcript, choose_users(transcript, interviewers=[
        "Dana Whitfield"]), TranscriptOptions(team_id="T1", company="Northwind",
                                              recording_url="https://rec.example/abc"))
    assert services.transcripts.import_quotes(quotes).added == 4


def snapshot(services) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Every quote's export record (words and full attribution), in a stable order."""
    with services.sessions() as session:
        pages = import_queries.export_page(session, "T1", 0, 10_000)
    return sorted((record(v, key) for v, key in pages), key=lambda r: json.dumps(r))


@pytest.fixture
def source(make_services, tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'source.db'}"
    services = make_services(url)
    fill(services)
    return url, services


def cli(url: str, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    monkeypatch.setenv("DATABASE_URL", url)
    return main(list(argv), embedder=HashingEmbedder())


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_then_import_into_a_fresh_database_gives_the_same_quotes(  # type: ignore[no-untyped-def]
        source, database_url: str, make_services, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    url, services = source
    before = snapshot(services)
    assert len(before) == len(ODD) + 6
    out = tmp_path / f"voices.{fmt}"
    assert cli(url, monkeypatch, "export", "--team", "T1", "--output", str(out)) == 0
    assert f"exported {len(before)} quotes of team T1 to {out} ({fmt})" in \
        capsys.readouterr().err
    assert not (tmp_path / f"voices.{fmt}.partial").exists()

    assert cli(database_url, monkeypatch, "import", str(out), "--team", "T1") == 0
    assert f"added {len(before)}, updated 0, unchanged 0, rejected 0" in capsys.readouterr().out
    fresh = make_services(database_url)
    after = snapshot(fresh)
    for b, a in zip(before, after):
        assert {k: v for k, v in a.items() if b[k] != v} == {}, b
    assert after == before  # every column: words, attribution, origin, privacy, position
    assert sorted(v.text.encode() for v in stored(fresh)) == \
        sorted(v.text.encode() for v in stored(services))
    private = next(v for v in stored(fresh) if v.channel_id == "G_PRIV")
    assert private.is_private and private.shareable and private.is_excerpt
    # importing the export again, or into the database it came from, adds nothing
    assert cli(database_url, monkeypatch, "import", str(out), "--team", "T1") == 0
    assert f"added 0, updated 0, unchanged {len(before)}" in capsys.readouterr().out
    assert cli(url, monkeypatch, "import", str(out), "--team", "T1") == 0
    assert f"added 0, updated 0, unchanged {len(before)}" in capsys.readouterr().out


def test_csv_export_guards_formulas_and_keeps_cells_whole(  # type: ignore[no-untyped-def]
        source, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url, _ = source
    out = tmp_path / "voices.csv"
    assert cli(url, monkeypatch, "export", "--output", str(out), "--team", "T1") == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a BOM
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    texts = {r["text"] for r in rows}
    assert "'=cmd|' /C calc'!A0" in texts and "''=already quoted, still words" in texts
    assert "'\tindented with a tab" in texts
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows
               for c in r.values())
    tags = next(json.loads(r["tags"]) for r in rows if r["text"].startswith("'+1"))
    assert tags == ["q4", "source=webinar, spring", "note=+1 fo"]


def test_apostrophes_in_a_file_voicebot_did_not_write_are_words(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Only voicebot's export guards cells, so only its files are unguarded: in a survey
    export, "'=" and "'-- meh" are what people typed (found by tests/test_properties.py)."""
    from bot.core.importing import parse_file
    from store.queries.quotes import NewQuote

    path = tmp_path / "survey.csv"
    path.write_text("text,speaker\n'=,Ann\n'-- meh,Bo\n''=x,Cy\n", encoding="utf-8")
    parsed = parse_file(path, team_id="T1")
    assert [q.text for _, q in parsed.rows if isinstance(q, NewQuote)] == \
        ["'=", "'-- meh", "''=x"]


def test_cell_guard_round_trips() -> None:
    for value in ["=1+1", "'=1", "''=1", "-", "'", "''", "plain", "it's", "'quoted'", ""]:
        assert unguard_cell(guard_cell(value)) == value


def test_jsonl_export_to_stdout_one_object_per_line(source, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = source
    assert cli(url, monkeypatch, "export", "--team", "T1") == 0
    lines = capsys.readouterr().out.split("\n")
    assert lines[-1] == "" and len(lines) - 1 == len(ODD) + 6
    records = [json.loads(line) for line in lines[:-1]]
    assert {r["text"] for r in records} >= set(ODD)
    passage = next(r for r in records if r["transcript_key"])
    assert passage["start_seconds"] == 5.4 and passage["key"].startswith("transcript:")
    assert passage["url"] == "https://rec.example/abc#t=5"


def test_export_refusals(source, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = source
    assert cli(url, monkeypatch, "export", "--team", "T1", "--output",
               str(tmp_path / "missing" / "x.csv")) == 1
    assert "no such directory" in capsys.readouterr().err
    assert cli(url, monkeypatch, "export", "--team", "T_NONE", "--output",
               str(tmp_path / "empty.jsonl")) == 0
    assert (tmp_path / "empty.jsonl").read_text() == ""
