"""Deletion requests, audit, replicas sharing a database, uninstall retention."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.cli.main import main
from store.models import AuditEntry, Quote, QuoteRevision
from store.queries.quotes import NewQuote
from store.retrieval.embeddings import HashingEmbedder


def add(services, text: str, speaker: str, **kw) -> int:  # type: ignore[no-untyped-def]
    return services.capture.save(NewQuote(team_id=kw.pop("team_id", "T1"), text=text,
                                         speaker_name=speaker, **kw)).quote.id


def test_forget_speaker_removes_everything_and_audits_without_words(services) -> None:  # type: ignore[no-untyped-def]
    a = add(services, "My password reset email never arrives", "Dana Lee",
            channel_id="C1", message_ts="1.1")
    add(services, "Dark mode hurts my eyes", "dana lee ")
    keep = add(services, "Dana's team loves the API", "Sam")
    other_team = add(services, "Another Dana", "Dana Lee", team_id="T2")
    services.edits.edit_message("T1", "C1", "1.1", "My password reset email never comes")
    assert services.deletion.forget_speaker("T1", "DANA LEE", by="U9", dry_run=True) == 2
    assert services.deletion.forget_speaker("T1", "Dana Lee", by="U9") == 2
    with services.sessions() as s:
        assert set(s.scalars(select(Quote.id))) == {keep, other_team}
        assert s.scalars(select(QuoteRevision)).all() == []
        audit = s.scalars(select(AuditEntry)).all()
    assert {(e.actor, e.action, e.team_id) for e in audit} == {("U9", "forget", "T1")}
    assert a in {e.quote_id for e in audit}
    dump = " ".join(f"{e.detail} {e.actor} {e.action}" for e in audit)
    assert "password" not in dump and "Dana" not in dump
    assert set(services.indexes.get("T1").ids().tolist()) == {keep}


def test_cli_forget_needs_confirmation(monkeypatch, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'f.db'}")
    csv = tmp_path / "q.csv"
    csv.write_text("text,speaker\nI want SSO,Ana\nExport is slow,Bo\n")
    assert main(["import", str(csv), "--team", "T1"], embedder=HashingEmbedder()) == 0
    assert main(["forget", "--speaker", "ana"], embedder=HashingEmbedder()) == 0  # dry run
    assert "dry run: nothing deleted; 1 quote would be deleted. Rerun with --yes" in \
        capsys.readouterr().out
    assert main(["forget", "--speaker", "ana", "--yes"], embedder=HashingEmbedder()) == 0
    assert "deleted 1 quotes" in capsys.readouterr().out


def test_two_replicas_sharing_postgres_agree(make_services, clean_postgres: str) -> None:  # type: ignore[no-untyped-def]
    one = make_services(clean_postgres)
    two = make_services(clean_postgres)
    quote = add(one, "Onboarding checklist would save us days", "Ana", channel_id="C1",
                message_ts="5.5")
    assert quote not in two.indexes.get("T1")
    assert two.sync.poll()[0] >= 1
    assert quote in two.indexes.get("T1")
    from bot.core.query import parse_query
    hits = two.search.search("T1", parse_query("onboarding checklist")).hits
    assert hits and hits[0].quote.id == quote
    one.deletion.delete_message("T1", "C1", "5.5")
    assert two.sync.poll()[1] == 1
    assert quote not in two.indexes.get("T1")


def test_purge_team_on_uninstall(services) -> None:  # type: ignore[no-untyped-def]
    add(services, "one", "A")
    add(services, "two", "B")
    add(services, "other workspace", "C", team_id="T2")
    assert services.deletion.purge_team("T1", by="slack:app_uninstalled") == 2
    with services.sessions() as s:
        assert [q.team_id for q in s.scalars(select(Quote))] == ["T2"]
