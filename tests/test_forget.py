"""`voicebot forget` finds a person wherever a quote names them, lists before deleting,
points at the quotes that only mention them, and audits who ran it; `search --text`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.main import main
from store.models import AuditEntry, Quote
from store.queries.quotes import NewQuote
from store.retrieval.embeddings import HashingEmbedder


def run(*argv: str) -> int:
    return main(list(argv), embedder=HashingEmbedder())


@pytest.fixture
def dana(database_url: str, make_services, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
         tmp_path: Path) -> dict[str, int]:
    """A store where Dana Lee appears as a tag, a relayer, a speaker id and in words."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("VOICEBOT_EMBEDDING_MODEL", raising=False)
    monkeypatch.setattr("getpass.getuser", lambda: "ops-alice")
    csv = tmp_path / "interviews.csv"
    csv.write_text("text,speaker,Interviewee\n"
                   "Onboarding took our team three whole weeks,,Dana Lee\n"
                   "Approvals by email are a nightmare,,\uff24\uff41\uff4e\uff41  LEE\n"
                   "Search never finds last week's invoices,Sam,Priya\n", encoding="utf-8")
    assert run("import", str(csv), "--team", "T1") == 0
    services = make_services(database_url)

    def add(text: str, **kw: object) -> int:
        return services.capture.save(NewQuote(team_id="T1", text=text, **kw)).quote.id  # type: ignore[arg-type]

    ids = {
        "relayed": add("Our finance team cannot export to SAP", speaker_name="Customer X",
                       first_hand=False, relayed_by="dana lee"),
        "by_id": add("Mobile app logs me out hourly", speaker_user_id="UDANA",
                     speaker_name="D. L.", channel_id="C1", message_ts="1.1"),
        "mention": add("Dana Lee said the roadmap slipped again", speaker_name="Sam"),
        "other": add("Dark mode please", speaker_name="Dana Leeson"),
    }
    with services.sessions() as s:
        for q in s.scalars(select(Quote).where(Quote.source_kind == "other")):
            if "Onboarding" in q.text:
                ids["tag"] = q.id
            elif "Approvals" in q.text:
                ids["tag_unicode"] = q.id
            elif "invoices" in q.text:
                ids["priya"] = q.id
    services.close()
    return ids


def test_forget_lists_every_field_naming_the_person_and_never_the_words(
        dana: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert run("forget", "--speaker", "Dana Lee") == 0  # stdin is not a terminal: a dry run
    out = capsys.readouterr().out
    assert "dry run: nothing deleted; 3 quotes would be deleted. Rerun with --yes" in out
    assert "3 quotes in T1 name 'Dana Lee':" in out
    lines = {int(line.split()[0][1:]): line for line in out.splitlines()
             if line.startswith("  #")}
    assert set(lines) == {dana["tag"], dana["tag_unicode"], dana["relayed"]}
    assert "matched: tag Interviewee" in lines[dana["tag"]]
    assert "matched: tag Interviewee" in lines[dana["tag_unicode"]]
    assert "matched: relayed by" in lines[dana["relayed"]]
    assert "Onboarding" not in out and "SAP" not in out and "roadmap" not in out
    assert "1 quote mentions this name inside its text" in out
    assert "voicebot search --text 'Dana Lee' --team T1" in out


def test_forget_deletes_tags_and_attribution_and_leaves_no_searchable_name(
        dana: dict[str, int], database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("forget", "--speaker", "DANA LEE", "--yes") == 0
    assert run("forget", "--speaker", "UDANA", "--yes") == 0
    capsys.readouterr()
    assert run("search", "onboarding approvals export mobile", "--limit", "100", "--json") == 0
    dump = capsys.readouterr().out
    # the name is left only inside the words of the quote that mentions it
    assert len(re.findall(r"dana lee\b", dump.lower())) == 1
    assert "\uff24\uff41\uff4e\uff41" not in dump
    assert "UDANA" not in dump and "SAP" not in dump
    left = {h["id"] for h in json.loads(dump)}
    assert left == {dana["mention"], dana["other"], dana["priya"]}
    from store import db
    engine = db.make_engine(database_url)
    with engine.connect() as conn:
        audit = conn.execute(select(AuditEntry.actor, AuditEntry.quote_id)).all()
    engine.dispose()
    assert {a for a, _ in audit} == {"ops-alice"}  # the OS user, not "cli"
    assert {i for _, i in audit} == {dana["tag"], dana["tag_unicode"], dana["relayed"],
                                     dana["by_id"]}


def test_forget_audits_the_named_operator_with_by(dana: dict[str, int], database_url: str) -> None:
    assert run("forget", "--speaker", "Dana Lee", "--yes", "--by", "dpo@example.com") == 0
    from store import db
    engine = db.make_engine(database_url)
    with engine.connect() as conn:
        actors = set(conn.scalars(select(AuditEntry.actor)))
    engine.dispose()
    assert actors == {"dpo@example.com"}


def test_search_text_finds_the_words_literally_ignoring_case(
        dana: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert run("search", "--text", "dana LEE", "--json") == 0
    hits = json.loads(capsys.readouterr().out)
    assert [h["id"] for h in hits] == [dana["mention"]]
    assert hits[0]["text"] == "Dana Lee said the roadmap slipped again"
    assert hits[0]["score"] is None and hits[0]["speaker"] == "Sam"
    assert run("search", "--text", "dana lee") == 0
    out = capsys.readouterr().out
    assert 'Quotes whose words contain "dana lee"' in out
    assert "Dana Lee said the roadmap slipped again" in out and "score" not in out
    assert run("search", "--text", "no such words") == 0
    assert "No quotes found." in capsys.readouterr().out
    assert run("search", "roadmap", "--text", "dana") == 1
    assert "not both" in capsys.readouterr().err
