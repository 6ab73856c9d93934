"""`voicebot imports` lists past imports; `voicebot imports undo ID` removes what one import
added (audited, vectors dropped) and puts back what it updated, after a confirmation."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.main import main
from store.errors import StoreError
from store.models import AuditEntry
from store.queries.quotes import NewQuote
from store.retrieval.embeddings import HashingEmbedder
from tests.test_reimport import notes_v1, notes_v2, run_import, stored, write_csv


def test_undo_removes_what_the_import_added_and_restores_what_it_updated(  # type: ignore[no-untyped-def]
        services, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "interview-notes.csv", notes_v1())
    run_import(services, path)
    original = sorted((v.id, v.text, v.speaker_name, v.company, v.segment, v.said_at)
                      for v in stored(services))
    write_csv(path, notes_v2())
    second, _ = run_import(services, path)
    added = {v.id for v in stored(services)} - {row[0] for row in original}
    assert len(added) == 5

    plan = services.import_log.plan_undo(second.id, "T1")
    assert (plan.remove, plan.restore) == (5, 17)
    done = services.import_log.undo(second.id, by="ops-ana")
    assert (done.removed, done.restored, done.left) == (5, 17, 0)
    # the quotes that existed before the import are all still there, as they were
    assert sorted((v.id, v.text, v.speaker_name, v.company, v.segment, v.said_at)
                  for v in stored(services)) == original
    index_ids = set(services.indexes.get("T1").search_many(
        services.embedder.encode(["The webinar skipped the API part."]), 100)[0])
    assert not {i for i, _ in index_ids} & added  # vectors left the index too
    with services.sessions() as session:
        audit = session.execute(select(AuditEntry.quote_id, AuditEntry.actor,
                                       AuditEntry.action)).all()
    assert sorted(a[0] for a in audit) == sorted(added)
    assert {(a[1], a[2]) for a in audit} == {("ops-ana", "import_undo")}
    listed = services.import_log.listing("T1")[0]
    assert listed.undone_by == "ops-ana" and listed.undone_at is not None
    with pytest.raises(StoreError, match="undone already"):
        services.import_log.undo(second.id, by="ops-ana")
    # the file imports again as it was the second time
    _, again = run_import(services, path)
    assert (again.added, again.updated) == (5, 17)


def test_undo_leaves_quotes_changed_again_since(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "n.csv", [{"speaker": "ana", "text": "Exports are slow."}])
    run_import(services, path)
    write_csv(path, [{"speaker": "Ana", "text": "Exports are slow."}])
    second, _ = run_import(services, path)
    write_csv(path, [{"speaker": "Ana Ruiz", "text": "Exports are slow."}])
    run_import(services, path)
    done = services.import_log.undo(second.id, by="ops")
    assert (done.removed, done.restored, done.left) == (0, 0, 1)
    assert [v.speaker_name for v in stored(services)] == ["Ana Ruiz"]


def test_undo_refuses_unknown_ids_and_other_teams(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run, _ = run_import(services, write_csv(tmp_path / "n.csv", [{"text": "Hello there"}]),
                        team="T1")
    with pytest.raises(StoreError, match="no import #999"):
        services.import_log.plan_undo(999)
    with pytest.raises(StoreError, match=f"no import #{run.id} in team T2"):
        services.import_log.undo(run.id, by="x", team_id="T2")
    assert len(stored(services)) == 1


def test_transcript_imports_are_recorded_and_undone(services) -> None:  # type: ignore[no-untyped-def]
    from bot.core.transcript_imports import TranscriptOptions, choose_users, to_quotes
    from bot.core.transcripts import read

    path = Path(__file__).resolve().parent / "data" / "transcripts" / \
        "GMT20260312-150102_Recording.transcript.vtt"
    transcript = read(path, path.read_text(encoding="utf-8"), None)
    quotes = to_quotes(path, transcript, choose_users(transcript, interviewers=[
        "Dana Whitfield"]), TranscriptOptions(team_id="T1"))
    services.capture.save(NewQuote(team_id="T1", text="Captured in Slack before.",
                                   channel_id="C1", message_ts="1.0"))
    run = services.import_log.begin("T1", kind="transcript", file_name=path.name, by="t")
    summary = services.transcripts.import_quotes(quotes, run=run)
    services.import_log.finish(run, added=summary.added)
    assert summary.added == 4
    assert services.import_log.undo(run.id, by="t").removed == 4
    assert [v.text for v in stored(services)] == ["Captured in Slack before."]


# -- the command line --------------------------------------------------------------------

@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("VOICEBOT_EMBEDDING_MODEL", raising=False)
    return tmp_path


def run(*argv: str) -> int:
    return main(list(argv), embedder=HashingEmbedder())


class Terminal(io.StringIO):
    """Standard input that is a terminal, with the user's answer typed in."""

    def isatty(self) -> bool:
        return True


def test_cli_lists_imports_with_who_and_counts(env: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(env / "interview-notes.csv", notes_v1())
    assert run("import", str(path), "--team", "T1", "--by", "ana") == 0
    assert "added 25, updated 0, unchanged 0, rejected 0 (team T1, import #1)" in \
        capsys.readouterr().out
    write_csv(path, notes_v2())
    assert run("import", str(path), "--team", "T1") == 0
    assert "added 5, updated 17, unchanged 5, rejected 0 (team T1, import #2)" in \
        capsys.readouterr().out
    assert run("imports") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["id", "when", "(UTC)"]
    assert lines[1].split()[0] == "2" and lines[2].split()[0] == "1"
    assert lines[2].split()[3:10] == ["T1", "csv", "ana", "25", "0", "0", "0"]
    assert lines[1].split()[6:10] == ["5", "17", "5", "0"]
    assert run("imports", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["kind"], r["file"], r["by"]) for r in listed] == \
        [(2, "csv", "interview-notes.csv", listed[0]["by"]), (1, "csv", "interview-notes.csv",
                                                              "ana")]
    assert listed[0]["by"]  # the operating-system user when --by is not given


def test_cli_undo_without_terminal_or_yes_is_a_dry_run(env: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(env / "n.csv", notes_v1()[:3])
    assert run("import", str(path), "--team", "T1", "--dayfirst") == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert run("imports", "undo", "1") == 1
    err = capsys.readouterr().err
    assert "would undo import #1 (csv n.csv" in err and "remove the 3 quotes" in err
    assert "Nothing was changed" in err and "--yes" in err
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert run("imports", "undo", "1") == 1
    assert "nothing was changed" in capsys.readouterr().err
    assert run("search", "--text", "Excel", "--team", "T1", "--json") == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert run("imports", "undo", "1", "--by", "ops-ana") == 0
    out = capsys.readouterr().out
    assert "Undo import #1" in out and "undid import #1: removed 3, restored 0" in out
    assert run("search", "--text", "Excel", "--team", "T1", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert run("imports", "undo", "1", "--yes") == 1
    assert "undone already" in capsys.readouterr().err
    assert run("imports", "undo", "42", "--yes") == 1
    assert "no import #42" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: "invalid int value"
        run("imports", "undo", "not-a-number")


def test_cli_undo_yes_for_scripts(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(env / "n.csv", notes_v1()[:2])
    assert run("import", str(path), "--team", "T1", "--dayfirst") == 0
    assert run("imports", "undo", "1", "--yes", "--team", "T2") == 1
    assert "no import #1 in team T2" in capsys.readouterr().err
    assert run("imports", "undo", "1", "--yes", "--team", "T1") == 0
    assert "removed 2" in capsys.readouterr().out
    assert run("imports") == 0
    assert "(undone " in capsys.readouterr().out


def test_cli_help_documents_imports_undo_and_export(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, words in ((["imports", "--help"], "List past imports"),
                        (["imports", "undo", "--help"], "--yes"),
                        (["export", "--help"], "formula"),
                        (["import", "--help"], "corrected file updates")):
        with pytest.raises(SystemExit):
            main(argv)
        assert words in " ".join(capsys.readouterr().out.split())
