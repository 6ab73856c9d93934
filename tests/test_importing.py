"""Reading CSV and JSONL files: good rows, bad rows with line numbers, bad files refused whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.importing import ImportFileError, parse_file
from bot.core.imports import RowProblem
from store.queries.quotes import NewQuote


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_csv_with_all_columns_and_extras(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.csv",
                 'text,speaker,company,segment,source,said_at,url,tags,plan\n'
                 '"Setup took ""forever"", honestly",Ana,Acme,smb,interview,2026-02-01,'
                 'https://x/1,"onboarding; setup",pro\n'
                 '"line one\nline two",Bo,,,,,,,\n')
    parsed = parse_file(path, team_id="T1")
    assert parsed.extra_columns == ("plan",)
    (l1, q1), (l2, q2) = parsed.rows
    assert isinstance(q1, NewQuote) and isinstance(q2, NewQuote)
    assert q1.text == 'Setup took "forever", honestly'
    assert (q1.speaker_name, q1.company, q1.segment, q1.source_kind.value) == \
        ("Ana", "Acme", "smb", "interview")
    assert q1.tags == ("onboarding", "setup", "plan=pro") and q1.said_at.year == 2026
    assert q2.text == "line one\nline two" and (l1, l2) == (2, 3)


def test_jsonl_reports_bad_lines_and_keeps_good_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "survey.jsonl",
                 '{"text": "Love the new editor", "source": "survey", "tags": ["nps"]}\n'
                 '\n{not json}\n["a list"]\n{"speaker": "x"}\n'
                 '{"text": "ok", "said_at": "yesterday"}\n{"text": "x", "source": "fax"}\n')
    parsed = parse_file(path, team_id="T1")
    rows = parsed.rows
    assert isinstance(rows[0][1], NewQuote) and rows[0][1].tags == ("nps",)
    problems = {line: p.reason for line, p in rows if isinstance(p, RowProblem)}
    assert set(problems) == {3, 4, 5}
    assert "JSON" in problems[3] and "text" in problems[5]
    fax = dict(rows)[7]  # an unknown source keeps the words too
    assert isinstance(fax, NewQuote) and fax.source_kind.value == "other"
    assert fax.tags == ("source=fax",)
    # a date not understood never drops the words
    assert [(n.line, n.message) for n in parsed.notes] == \
        [(6, 'date "yesterday" not understood; imported without a date')]
    kept = dict(rows)[6]
    assert isinstance(kept, NewQuote) and kept.text == "ok" and kept.said_at is None


@pytest.mark.parametrize("content, message", [
    ("speaker,company\nAna,Acme\n", "no `text` column"),
    (b"text\n\xff\xfe bad bytes\n", "not UTF-8"),
    ('text,speaker\n"unterminated,Ana\nmore\n', "broken CSV"),
    ("", "empty"),
])
def test_unreadable_files_are_refused_whole(tmp_path: Path, content, message: str) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "bad.csv", content)
    with pytest.raises(ImportFileError, match=message):
        parse_file(path, team_id="T1")


def test_cp1252_file_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "legacy.csv", "text\nfine\ncaf\xe9 is slow\n".encode("cp1252"))
    with pytest.raises(ImportFileError, match="line 3"):
        parse_file(path, team_id="T1")
