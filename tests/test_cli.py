"""The `voicebot` command line, run in-process on a real SQLite file with the test embedder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import build_parser, main
from store.retrieval.embeddings import HashingEmbedder


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("VOICEBOT_EMBEDDING_MODEL", raising=False)
    return tmp_path


def run(*argv: str) -> int:
    return main(list(argv), embedder=HashingEmbedder())


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"import", "search", "reindex", "db", "demo", "serve"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as exc:
            main([name, "--help"])
        assert exc.value.code == 0
        assert "usage: voicebot " + name in capsys.readouterr().out


def test_import_then_search_json(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = env / "q.csv"
    path.write_text("text,speaker,company,source\n"
                    "The CSV export times out on big boards,Ana,Acme,support\n"
                    "Dark mode please,Bo,Beta,survey\n,Cy,,\n")
    assert run("import", str(path), "--team", "T1") == 1  # a rejected row: exit status 1
    out = capsys.readouterr()
    assert "added 2, updated 0, unchanged 0, rejected 1" in out.out
    assert "q.csv:4: skipped: the quote is empty" in out.err
    assert run("import", str(path)) == 1  # --team inferred: the store knows one workspace
    assert "added 0, updated 0, unchanged 2, rejected 1" in capsys.readouterr().out
    assert run("search", "csv", "export", "--json") == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["text"] == "The CSV export times out on big boards"
    assert {"id", "text", "speaker", "company", "source", "score"} <= set(hits[0])
    assert hits[0]["speaker"] == "Ana" and hits[0]["source"] == "support_ticket"


def test_errors_are_one_line_and_nonzero(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("search", "anything") == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the store has no workspace yet; pass --team T (your Slack "
                          "team id: voicebot's App Home in Slack shows it")
    assert "\n" not in err
    assert run("import", str(env / "missing.csv"), "--team", "T1") == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "no such file" in err and "\n" not in err
    assert run("search", "segmnt:smb", "x", "--team", "T1") == 1
    assert "Did you mean `segment:`" in capsys.readouterr().err


def test_a_workspace_without_quotes_is_named_not_searched(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A search, export or deletion request of a workspace without quotes (often a mistyped
    --team) says so on stderr beside its usual answer; a store of many workspaces says how
    many it did not list."""
    for n in range(7):
        path = env / f"q{n}.csv"
        path.write_text(f"text,speaker\nThe export times out on big boards {n},Ana\n")
        assert run("import", str(path), "--team", f"T{n}") == 0
    capsys.readouterr()
    for argv in (("search", "export", "--team", "T9"), ("search", "--text", "export",
                                                         "--team", "T9"),
                 ("export", "--team", "T9"), ("forget", "--speaker", "Ana", "--team", "T9")):
        assert run(*argv) == 0, argv
        out = capsys.readouterr()
        assert out.err.strip().endswith("note: workspace 'T9' has no quotes yet; `voicebot "
                                        "teams` lists the workspaces that have some"), argv
    assert run("search", "--text", "nothing like this", "--team", "T3") == 0
    assert "note:" not in capsys.readouterr().err  # T3 has quotes: nothing to say
    assert run("search", "export") == 1
    assert ("the store holds 7 workspaces (T0, T1, T2, T3, T4, and 2 more); pass --team"
            in capsys.readouterr().err)
    assert run("search", "export", "--team", "T3") == 0
    assert "export times out on big boards 3" in capsys.readouterr().out


def test_search_json_says_when_a_quote_was_said_only_when_known(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """said_at is the user's date, null when the source gave none; captured_at is always
    there (the plain output falls back to it and says "captured")."""
    path = env / "q.csv"
    path.write_text("text,speaker,date\nThe export times out on big boards,Ana,2026-10-02\n"
                    "Export to CSV loses the emoji,Bo,\n")
    assert run("import", str(path), "--team", "T1") == 0
    capsys.readouterr()
    assert run("search", "export", "--json") == 0
    hits = {h["speaker"]: h for h in json.loads(capsys.readouterr().out)}
    assert hits["Ana"]["said_at"].startswith("2026-10-02")
    assert hits["Bo"]["said_at"] is None
    assert hits["Ana"]["captured_at"] and hits["Bo"]["captured_at"]


def test_a_huge_topic_is_refused_with_a_terminal_example(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("search", "x" * 5000, "--team", "T1") == 1
    err = capsys.readouterr().err
    assert "5,000 characters long" in err and "`voicebot search export to CSV`" in err
    assert "/voice" not in err


def test_unreachable_database_is_one_clear_line(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert run("search", "billing", "--team", "T1") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach the database at postgresql+psycopg://nobody@")
    assert len(err.strip().splitlines()) == 1


def test_missing_model_path_is_refused(monkeypatch: pytest.MonkeyPatch, env: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VOICEBOT_EMBEDDING_MODEL", str(env / "no-such-model"))
    assert main(["search", "billing"]) == 1
    assert "VOICEBOT_EMBEDDING_MODEL points to" in capsys.readouterr().err


@pytest.mark.model
def test_console_script_demo_with_the_bundled_model(tmp_path: Path) -> None:
    """The README's first command, as a newcomer runs it (real model, real subprocess)."""
    proc = subprocess.run([sys.executable, "-m", "bot", "demo", "card has not arrived"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "added 462" in proc.stdout
    assert "matching quote" in proc.stdout and "Banking77 customer" in proc.stdout
    # the bundled interview: only the customer's turns, each linked to its moment
    assert "Sample interview: added 0, already there 0" not in proc.stdout
    proc_interview = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "top up failed source:interview"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc_interview.returncode == 0, proc_interview.stderr
    assert "Sample interview: added 0, already there 3" in proc_interview.stdout
    assert "— Sam Okoro, Demo customer (consumer) · interview" in proc_interview.stdout
    assert "demo-interview#t=5" in proc_interview.stdout
    assert "Priya Raman" not in proc_interview.stdout
    assert (tmp_path / "voicebot.db").exists()
    # the sample was imported with emotions from the bundled head: filter by one, see it shown
    proc = subprocess.run([sys.executable, "-m", "bot", "demo", "emotion:frustrated card"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "added 0" in proc.stdout and "Filters: emotion: frustrated" in proc.stdout
    shown = [line for line in proc.stdout.splitlines() if "— Banking77 customer" in line]
    assert shown and all("· frustrated (" in line for line in shown)
