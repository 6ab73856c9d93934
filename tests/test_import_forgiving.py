"""Imports that forgive (issue 12 §4): dates as people type them, unknown sources, exit
status, column mapping. The words are never dropped for their metadata."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.import_dates import Order
from bot.core.importing import ImportFileError, ParsedFile, parse_file
from store.queries.quotes import NewQuote
from store.retrieval.embeddings import HashingEmbedder

#: Interview notes as exported from a shared spreadsheet: dates in every local habit.
NOTES = """\
Date,Interviewee,Company,Text
2026-10-01,Ana Ruiz,Acme,"I export to Excel every Friday, and it breaks the formulas."
02/10/2026,Bo Chen,Beta,The onboarding checklist never told me about SSO.
"Oct 3, 2026",Cy Dube,Cobalt,"Honestly? I gave up on the mobile app."
2026/10/05,Di Park,Delta,We pay for seats nobody uses.
5 Oct 2026,Eli Nour,Eon,"Search finds nothing if I misspell a name."
06.10.2026,Fay Lind,Fjord,I want the weekly digest on Monday morning.
25/10/2026,Gus Amo,Gale,The audit log stops after ninety days.
sometime in spring,Hal Ito,Helm,"Nobody answers the chat after 5pm."
"""


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def quotes(parsed: ParsedFile) -> dict[int, NewQuote]:
    return {line: q for line, q in parsed.rows if isinstance(q, NewQuote)}


def day(q: NewQuote) -> date | None:
    return q.said_at.date() if q.said_at else None


def test_common_date_forms_day_first_decided_by_the_file(tmp_path: Path) -> None:
    parsed = parse_file(write(tmp_path, "notes.csv", NOTES), team_id="T1")
    got = quotes(parsed)
    assert parsed.date_order is Order.DAY_FIRST  # 25/10/2026 decides it
    assert len(got) == 8  # every row's words kept
    assert [day(got[line]) for line in range(2, 10)] == [
        date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3), date(2026, 10, 5),
        date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 25), None]
    assert got[9].text == "Nobody answers the chat after 5pm."
    assert [(n.line, n.message) for n in parsed.notes] == \
        [(9, 'date "sometime in spring" not understood; imported without a date')]


def test_month_first_decided_by_a_second_number_over_12(tmp_path: Path) -> None:
    content = "date,text\n02/10/2026,Slow exports\n10/25/2026,Billing page is confusing\n"
    parsed = parse_file(write(tmp_path, "us.csv", content), team_id="T1")
    got = quotes(parsed)
    assert parsed.date_order is Order.MONTH_FIRST
    assert (day(got[2]), day(got[3])) == (date(2026, 2, 10), date(2026, 10, 25))


def test_ambiguous_file_is_refused_with_rows_and_flags(tmp_path: Path) -> None:
    content = ("date,text\n2026-10-01,Fine\n02/10/2026,Slow exports\n"
               "03/11/2026,Too many emails\n05/05/2026,Same either way\n")
    path = write(tmp_path, "amb.csv", content)
    with pytest.raises(ImportFileError) as exc:
        parse_file(path, team_id="T1")
    message = str(exc.value)
    assert 'line 3 "02/10/2026"' in message and 'line 4 "03/11/2026"' in message
    assert "05/05/2026" not in message  # the same date either way is not ambiguous
    assert "--dayfirst" in message and "--monthfirst" in message
    assert "Nothing was imported" in message
    day_first = quotes(parse_file(path, team_id="T1", date_order=Order.DAY_FIRST))
    month_first = quotes(parse_file(path, team_id="T1", date_order=Order.MONTH_FIRST))
    assert day(day_first[3]) == date(2026, 10, 2) and day(month_first[3]) == date(2026, 2, 10)


def test_contradicting_dates_are_refused_unless_a_flag_decides(tmp_path: Path) -> None:
    content = "date,text\n25/10/2026,Audit log is short\n10/25/2026,Digest is late\n"
    path = write(tmp_path, "mixed.csv", content)
    with pytest.raises(ImportFileError, match='line 2 "25/10/2026".*line 3 "10/25/2026"'):
        parse_file(path, team_id="T1")
    parsed = parse_file(path, team_id="T1", date_order=Order.DAY_FIRST)
    got = quotes(parsed)
    assert day(got[2]) == date(2026, 10, 25) and got[3].said_at is None
    assert got[3].text == "Digest is late"
    assert [n.line for n in parsed.notes] == [3]


def test_impossible_date_keeps_the_words(tmp_path: Path) -> None:
    content = "date,text\n31/02/2026,Renewal quote came too late\n13/01/2026,ok\n"
    got = quotes(parse_file(write(tmp_path, "feb.csv", content), team_id="T1"))
    assert got[2].text == "Renewal quote came too late" and got[2].said_at is None


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("VOICEBOT_EMBEDDING_MODEL", raising=False)
    return tmp_path


def run(*argv: str) -> int:
    return main(list(argv), embedder=HashingEmbedder())


def test_cli_imports_every_row_and_reports_bad_dates(env: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = write(env, "notes.csv", NOTES)
    assert run("import", str(path), "--team", "T1") == 0
    out = capsys.readouterr()
    assert "added 8, updated 0, unchanged 0, rejected 0" in out.out
    assert f'{path}:9: date "sometime in spring" not understood; imported without a date' \
        in out.err


def test_cli_ambiguity_refused_then_flag_imports(env: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = write(env, "amb.csv", "date,text\n02/10/2026,Slow exports\n")
    assert run("import", str(path), "--team", "T1") == 1
    assert "--dayfirst" in capsys.readouterr().err
    assert run("import", str(path), "--team", "T1", "--monthfirst") == 0
    assert "added 1," in capsys.readouterr().out


def test_unknown_source_is_kept_as_other_with_a_tag(tmp_path: Path) -> None:
    content = ("text,source,tags\nThe webinar skipped the API part,webinar,q4\n"
               "Pricing page is clear,Webinar,\nSupport was quick,ticket,\n")
    parsed = parse_file(write(tmp_path, "events.csv", content), team_id="T1")
    got = quotes(parsed)
    assert len(got) == 3
    assert got[2].source_kind.value == "other" and got[2].tags == ("q4", "source=webinar")
    assert got[3].tags == ("source=Webinar",)
    assert got[4].source_kind.value == "support_ticket" and got[4].tags == ()
    assert len(parsed.file_notes) == 2
    assert parsed.file_notes[0].startswith('source "webinar" (1 row) is not one of')
    assert "kept as source other with the tag source=webinar" in parsed.file_notes[0]


def test_exit_status_says_whether_rows_were_rejected(env: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    good = write(env, "good.csv", "text,source\nExports are slow,webinar\nDark mode,survey\n")
    assert run("import", str(good), "--team", "T1") == 0
    assert run("import", str(good), "--team", "T1") == 0  # duplicates are skipped on purpose
    assert "added 0, updated 0, unchanged 2, rejected 0" in capsys.readouterr().out
    mixed = write(env, "mixed.csv", 'text,speaker\nThe invoice PDF is blank,Ana\n"   ",Bo\n'
                                    "Too,many,fields\n")
    assert run("import", str(mixed), "--team", "T1") == 1
    out = capsys.readouterr()
    assert "added 1, updated 0, unchanged 0, rejected 2" in out.out  # good row stored anyway
    assert run("search", "--text", "invoice PDF", "--team", "T1", "--json") == 0
    assert "The invoice PDF is blank" in capsys.readouterr().out


def test_help_documents_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    assert "1 when rows were rejected" in " ".join(capsys.readouterr().out.split())


#: A Typeform-style export: no `text` column, the answer sits under the question.
TYPEFORM = """\
#,Interviewee,"What frustrates you?",Submitted At
a1f3,Ana Ruiz,"Every export loses the filters I set, so I redo them.",2026-10-01 09:12:44
b7c2,Bo Chen,"The admin page hides the billing contact, I never find it.",2026-10-02 17:03:10
"""


def test_parse_map_allows_quoted_names() -> None:
    from bot.core.importing import parse_map

    assert parse_map('speaker=Interviewee,text="What frustrates you?"') == \
        {"speaker": "Interviewee", "text": "What frustrates you?"}
    assert parse_map('text="Anything else, at all?",date=When') == \
        {"text": "Anything else, at all?", "said_at": "When"}
    for bad in ("speaker", "colour=Red", 'text="open'):
        with pytest.raises(ImportFileError, match="--map"):
            parse_map(bad)


def test_unmapped_typeform_export_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "typeform.csv", TYPEFORM)
    with pytest.raises(ImportFileError) as exc:
        parse_file(path, team_id="T1")
    assert "no `text` column" in str(exc.value)
    assert """--map 'text="What frustrates you?"'""" in str(exc.value)


def test_mapped_columns_keep_the_exact_words(tmp_path: Path) -> None:
    path = write(tmp_path, "typeform.csv", TYPEFORM)
    parsed = parse_file(path, team_id="T1", column_map={
        "speaker": "Interviewee", "text": "What frustrates you?", "said_at": "Submitted At"})
    got = quotes(parsed)
    assert got[2].text == "Every export loses the filters I set, so I redo them."
    assert got[2].speaker_name == "Ana Ruiz" and day(got[3]) == date(2026, 10, 2)
    assert got[2].tags == ("#=a1f3",) and parsed.file_notes == ()
    with pytest.raises(ImportFileError, match="no such column"):
        parse_file(path, team_id="T1", column_map={"text": "What annoys you?"})


def test_report_suggests_a_speaker_column(tmp_path: Path) -> None:
    content = ("Respondent name,Company name,text\n"
               "Ana Ruiz,Acme,Reports take forever to load\n")
    parsed = parse_file(write(tmp_path, "s.csv", content), team_id="T1")
    assert parsed.file_notes == ("column 'Respondent name' looks like a speaker; import with "
                                 """--map 'speaker="Respondent name"'""",)
    assert quotes(parsed)[2].text == "Reports take forever to load"


def test_cli_map_and_note(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(env, "forms.csv", "Interviewee,text\nAna,Exports are slow\n")
    assert run("import", str(path), "--team", "T1") == 0
    assert ("note: column 'Interviewee' looks like a speaker; import with "
            "--map speaker=Interviewee") in capsys.readouterr().err
    typeform = write(env, "typeform.csv", TYPEFORM)
    assert run("import", str(typeform), "--team", "T1") == 1
    assert "--map 'text=" in capsys.readouterr().err
    assert run("import", str(typeform), "--team", "T1", "--map",
               'speaker=Interviewee,text="What frustrates you?"',
               "--map", 'said_at="Submitted At"') == 0
    assert "added 2," in capsys.readouterr().out
    assert run("search", "--text", "billing contact", "--team", "T1", "--json") == 0
    hit = json.loads(capsys.readouterr().out)[0]
    assert hit["speaker"] == "Bo Chen" and hit["said_at"].startswith("2026-10-02")


def test_non_utf8_names_the_byte_after_a_bom_and_suggests_cp1252(tmp_path: Path) -> None:
    raw = "\ufefftext,speaker\nfine,Ana\nLe café est trop lent,Zoé\n".encode("utf-8")
    raw = raw.replace("café".encode(), "café".encode("cp1252"))  # one stray Windows byte
    path = tmp_path / "excel.csv"
    path.write_bytes(raw)
    with pytest.raises(ImportFileError) as exc:
        parse_file(path, team_id="T1")
    message = str(exc.value)
    assert "line 3, byte 7 (0xe9) is not UTF-8" in message  # "Le caf" is 6 bytes; no BOM
    assert "--encoding cp1252" in message and "Nothing was imported" in message


def test_encoding_flag_reads_a_windows_file_verbatim(env: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = env / "legacy.csv"
    path.write_bytes("text,speaker\n“Naïve” pricing – it’s 50€ too much,Zoé\n"
                     .encode("cp1252"))
    got = quotes(parse_file(path, team_id="T1", encoding="cp1252"))
    assert got[2].text == "“Naïve” pricing – it’s 50€ too much" and got[2].speaker_name == "Zoé"
    assert run("import", str(path), "--team", "T1") == 1
    assert "--encoding cp1252" in capsys.readouterr().err
    assert run("import", str(path), "--team", "T1", "--encoding", "cp1252") == 0
    assert run("import", str(path), "--team", "T1", "--encoding", "klingon") == 1
    assert "unknown encoding" in capsys.readouterr().err
