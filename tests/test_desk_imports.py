"""Support-desk exports (Zendesk, Intercom, Help Scout): only the customers' words, verbatim,
attributed, linked and tagged, re-imported without duplicates, malformed files refused with
where. Fixtures in tests/data/desk/ follow each vendor's API documentation (cited in their
``_source`` key or a sibling .SOURCE.md); every person and company in them is invented."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.main import main
from bot.core.desk import DeskExportError, read_export
from bot.core.desk.comments import html_to_text, is_new, speaker_name
from bot.core.desk.quotes import DeskOptions, passage_key, to_quotes
from bot.core.passages import PASSAGE_MAX_CHARS, is_filler
from bot.core.query import parse_query
from store.models import Quote
from store.queries.quotes import NewQuote
from store.retrieval.embeddings import HashingEmbedder
from store.vocab import NEW_USER_TAG

DATA = Path(__file__).resolve().parent / "data" / "desk"

#: words of the team's side, bots, notes, side conversations, deleted or redacted people
NEVER = ("INTERNAL-NOTE-WORDS", "ADMIN-REPLY-WORDS", "SIDE-CONVERSATION-WORDS",
         "DELETED-USER-WORDS", "BOT-ANSWER-WORDS", "ADMIN-NOTE-WORDS", "PRIVATE-REDACTED-WORDS",
         "REMOVED-CONTACT-WORDS", "BOT-OUTBOUND-WORDS", "HS-NOTE-WORDS", "HS-REPLY-WORDS",
         "DRAFT-WORDS", "CHAT-AGENT-WORDS", "HS-QUOTED-AGENT-WORDS", "Hanne Berg wrote",
         "Hi Marta, thanks", "Sorry about that Theo",
         "invoice-0412.pdf", "duplicate-charges.png", "bank-feed.csv")

#: file, vendor, speakers quoted, words of theirs that must be stored, whether bodies are HTML
CASES = [
    ("zendesk_tickets.json", "zendesk", {"Marta Kowalczyk", "Ines Duarte", "theo.vance"},
     "I had to void and reissue all forty invoices by hand", False),
    ("zendesk_incremental.json", "zendesk", {"Marta Kowalczyk", "Ines Duarte", "theo.vance"},
     "two cafés paid the wrong invoice", False),
    ("zendesk_export.jsonl", "zendesk", {"Marta Kowalczyk", "theo.vance"},
     "I have to type my password five or six times a day.", False),
    ("intercom_conversations.json", "intercom", {"Joel Amari", "kiri.waititi"},
     "An email from you when a payment is taken twice would have saved me", True),
    ("intercom_conversations.jsonl", "intercom", {"Joel Amari", "kiri.waititi"},
     "Both charges show on my card statement & both invoices are in my account", True),
    ("helpscout_conversations.json", "helpscout", {"Noor Haddad", "pat.okoro"},
     "it still says \"last synced 28 June\"", True),
]


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _file_strings(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    values = ([json.loads(line) for line in text.splitlines() if line.strip()]
              if path.suffix == ".jsonl" else [json.loads(text)])
    return [s for v in values for s in _strings(v)]


def _read(name: str):  # type: ignore[no-untyped-def]
    path = DATA / name
    return read_export(path, path.read_text(encoding="utf-8"))


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("VOICEBOT_EMBEDDING_MODEL", raising=False)
    return tmp_path


def run(*argv: str) -> int:
    return main(list(argv), embedder=HashingEmbedder())


def stored(tmp_path: Path) -> list[Quote]:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with Session(engine) as session:
        rows = list(session.scalars(select(Quote).order_by(Quote.id)))
        session.expunge_all()
    engine.dispose()
    return rows


@pytest.mark.parametrize(("name", "fmt", "speakers", "words", "html"), CASES,
                         ids=[c[0] for c in CASES])
def test_only_customers_words_verbatim(name: str, fmt: str, speakers: set[str], words: str,
                                       html: bool) -> None:
    export = _read(name)
    assert export.format == fmt
    quotes = to_quotes(export, DeskOptions(team_id="T1"))
    assert {q.speaker_name for q in quotes} == speakers
    assert any(words in q.text for q in quotes)
    by_key = {passage_key(fmt, c.ticket_id, c.comment_id, i): c
              for c in export.comments for i in range(10)}
    # the texts of the file itself: the comment bodies, or the text converted from the HTML
    sources = [html_to_text(s) if html else s for s in _file_strings(DATA / name)]
    for q in quotes:
        assert q.char_start is not None and q.passage_key is not None
        comment = by_key[q.passage_key]
        assert comment.text[q.char_start:q.char_end] == q.text  # the offsets are exact
        assert any(q.text in s for s in sources)  # verbatim from the export
        if html:  # the original HTML is kept, and the words come from its text
            assert q.source_html is not None
            assert html_to_text(q.source_html)[q.char_start:q.char_end] == q.text
        else:
            assert q.source_html is None
        assert q.text == q.text.strip() and len(q.text) <= PASSAGE_MAX_CHARS
        assert not is_filler(q.text) and q.source_kind.value == "support_ticket"
        assert "@" not in (q.speaker_name or "")  # never a whole e-mail address
        for never in NEVER:
            assert never not in q.text


def test_long_comment_is_split_into_whole_sentences_covering_it() -> None:
    export = _read("zendesk_tickets.json")
    marta = next(c for c in export.comments if c.comment_id == "8101")
    parts = [q for q in to_quotes(export, DeskOptions(team_id="T1"))
             if q.passage_key in {passage_key("zendesk", "35436", "8101", i) for i in range(5)}]
    assert len(marta.text) > PASSAGE_MAX_CHARS and len(parts) == 2
    assert parts[0].char_start == 0 and parts[1].char_end == len(marta.text)
    assert parts[0].text.endswith("where the old one comes from.")
    assert parts[1].text.startswith("Is it cached somewhere?")
    between = marta.text[parts[0].char_end:parts[1].char_start]
    assert between.strip() == ""  # nothing dropped between the passages


def test_what_is_left_out_is_counted() -> None:
    assert dict(_read("zendesk_tickets.json").skipped) == {
        "agents' comments": 3, "internal notes": 1, "side conversations": 1,
        "comments by deleted users": 1, "comments without words (attachments only)": 1}
    assert dict(_read("intercom_conversations.json").skipped) == {
        "admin, bot and team parts": 4, "redacted parts": 1, "parts by deleted contacts": 1}
    assert dict(_read("helpscout_conversations.json").skipped) == {
        "agents' replies": 1, "internal notes": 1, "drafts and hidden threads": 1,
        "chats and phone notes": 1}
    # without side-loaded users only the requester's comments are known to be the customer's
    assert _read("zendesk_export.jsonl").skipped[
        "comments by someone the export does not describe"] == 4


def test_attribution_rules() -> None:
    assert speaker_name("Marta Kowalczyk", "marta@x.example") == "Marta Kowalczyk"
    assert speaker_name("", "theo.vance@harborlight.example") == "theo.vance"
    assert speaker_name("theo@x.example", None) == "theo"  # a "name" that is the address
    assert speaker_name(None, None) is None
    from datetime import datetime, timedelta, timezone

    said = datetime(2026, 3, 10, tzinfo=timezone.utc)
    assert is_new(said - timedelta(days=29, hours=23), said)
    assert not is_new(said - timedelta(days=30), said)
    assert is_new(said + timedelta(seconds=5), said)  # the comment created the account
    assert not is_new(None, said)


def test_cli_attribution_timestamps_links_and_new_user_tag(
        cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("zendesk_tickets.json", "intercom_conversations.json",
                 "helpscout_conversations.json"):
        assert run("import", str(DATA / name), "--team", "T1", "--segment", "smb",
                   "--ticket-url", "https://app.intercom.com/a/inbox/ldg/inbox/conversation/{id}"
                   ) == 0
    out = capsys.readouterr()
    assert "added 4, updated 0, unchanged 0" in out.out
    assert "zendesk export: 3 tickets" in out.err and "internal notes: 1" in out.err
    rows = {(r.speaker_name, r.said_at.isoformat() if r.said_at else None): r
            for r in stored(cli_env)}
    marta = rows[("Marta Kowalczyk", "2026-03-10T09:12:00")]
    assert (marta.company, marta.segment, marta.source_kind) == \
        ("Brightwater Bakery", "smb", "support_ticket")
    assert marta.source_url == "https://ledgerly.zendesk.com/agent/tickets/35436"
    assert marta.tags == [NEW_USER_TAG]  # account created 2026-03-01, comment on 03-10
    ines = rows[("Ines Duarte", "2026-03-10T11:40:00")]
    assert ines.tags == [] and ines.company == "Brightwater Bakery"  # account from 2025
    theo = rows[("theo.vance", "2026-04-02T14:30:00")]
    assert theo.company is None and theo.tags == []
    joel = rows[("Joel Amari", "2026-05-04T08:20:00")]  # signed up 2026-04-22
    assert joel.company == "Copperleaf Studio" and joel.tags == [NEW_USER_TAG]
    assert joel.source_url == "https://app.intercom.com/a/inbox/ldg/inbox/conversation/184211"
    assert joel.source_html is not None and "<b>refund</b>" in joel.source_html
    assert "<" not in joel.text and "refund was quick" in joel.text
    kiri = rows[("kiri.waititi", "2026-06-10T12:00:00")]
    assert kiri.tags == [] and kiri.company is None
    noor = rows[("Noor Haddad", "2026-07-02T07:30:00")]
    assert noor.source_url == "https://secure.helpscout.net/conversation/2204871/148"
    assert noor.company == "Saltmarsh Tea Co." and noor.tags == [NEW_USER_TAG]
    assert "can't reconcile" in noor.text and "&#39;" in (noor.source_html or "")
    pat = rows[("pat.okoro", "2026-07-05T16:00:00")]
    assert pat.tags == [] and pat.company is None
    # the command-line search takes the same filter
    assert run("search", "--team", "T1", "--json", "--limit", "50", "new:yes") == 0
    found = json.loads(capsys.readouterr().out)
    assert {q["speaker"] for q in found} == {"Marta Kowalczyk", "Joel Amari", "Noor Haddad"}
    assert all(NEW_USER_TAG in q["tags"] for q in found)
    assert run("search", "--team", "T1", "new:maybe", "export") == 1
    assert "must be `new:yes`" in capsys.readouterr().err


def test_reimport_adds_nothing_and_the_same_comments_in_another_shape_too(
        cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("import", str(DATA / "zendesk_tickets.json"), "--team", "T1") == 0
    first = [(r.id, r.text) for r in stored(cli_env)]
    assert len(first) == 4
    for name in ("zendesk_tickets.json", "zendesk_incremental.json"):  # same comment ids
        assert run("import", str(DATA / name), "--team", "T1") == 0
        assert "added 0, updated 0, unchanged 4" in capsys.readouterr().out
    assert [(r.id, r.text) for r in stored(cli_env)] == first
    assert run("import", str(DATA / "intercom_conversations.json"), "--team", "T1") == 0
    assert run("import", str(DATA / "intercom_conversations.jsonl"), "--team", "T1") == 0
    assert "added 0, updated 0, unchanged 4" in capsys.readouterr().out
    assert len(stored(cli_env)) == 8


def test_an_edited_comment_updates_its_passage_keeping_the_old_words(
        cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = cli_env / "hs.json"
    shutil.copy(DATA / "helpscout_conversations.json", path)
    assert run("import", str(path), "--team", "T1") == 0
    path.write_text(path.read_text().replace("without keeping two templates",
                                             "without keeping three templates"))
    assert run("import", str(path), "--team", "T1") == 0
    assert "added 0, updated 1, unchanged 2" in capsys.readouterr().out
    pat = next(r for r in stored(cli_env) if r.speaker_name == "pat.okoro")
    assert "three templates" in pat.text and "three templates" in (pat.source_html or "")


MALFORMED = [
    ("zendesk_tickets.json", '"created_at": "2026-04-02T14:30:00Z",\n          "metadata"',
     '"created_at": "yesterday",\n          "metadata"',
     r"\$\.tickets\[1\]\.comments\[0\]\.created_at \(ticket 35437\): \"yesterday\" is not a "
     r"time"),
    ("zendesk_tickets.json", '"id": 8202,', '"id": {"x": 1},',
     r"\$\.tickets\[1\]\.comments\[1\]\.id \(ticket 35437\): expected an id"),
    ("intercom_conversations.json", '"body": "<p>That is not what happened',
     '"body": 42, "x": "<p>That is not what happened',
     r"\$\.conversations\[0\]\.conversation_parts\.conversation_parts\[1\]\.body "
     r"\(conversation 184211\): expected a string, found a number"),
    ("helpscout_conversations.json",
     '"createdAt": "2026-07-05T16:00:00Z",\n              "openedAt"',
     '"createdAt": "July 5th",\n              "openedAt"',
     r"\$\._embedded\.conversations\[1\]\._embedded\.threads\[2\]\.createdAt "
     r"\(conversation 2204872\)"),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), MALFORMED,
                         ids=[f"{m[0]}-{i}" for i, m in enumerate(MALFORMED)])
def test_malformed_export_names_where_and_loses_nothing(
        cli_env: Path, capsys: pytest.CaptureFixture[str], name: str, old: str, new: str,
        message: str) -> None:
    assert run("import", str(DATA / "zendesk_tickets.json"), "--team", "T1") == 0
    before = [(r.id, r.text) for r in stored(cli_env)]
    path = cli_env / name
    source = (DATA / name).read_text()
    assert source.count(old) >= 1, old
    path.write_text(source.replace(old, new, 1))
    with pytest.raises(DeskExportError, match=message):
        read_export(path, path.read_text())
    assert run("import", str(path), "--team", "T1") == 1
    err = capsys.readouterr().err
    assert "Nothing was imported" in err and str(path) in err
    assert [(r.id, r.text) for r in stored(cli_env)] == before


def test_broken_json_and_json_lines_name_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "t.json"
    broken.write_text('{"tickets": [\n  {"id": 1, "requester_id": 2,\n  "comments": [}\n]}')
    with pytest.raises(DeskExportError, match=r"t\.json: line 3, column 16: not valid JSON"):
        read_export(broken, broken.read_text(), "zendesk")
    lines = (DATA / "zendesk_export.jsonl").read_text().splitlines()
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_text("\n".join([lines[0], lines[1][:200], *lines[2:]]) + "\n")
    with pytest.raises(DeskExportError, match=r"e\.jsonl: line 2, column \d+: not valid JSON"):
        read_export(jsonl, jsonl.read_text())
    bad_line = tmp_path / "b.jsonl"
    bad_line.write_text(lines[0] + "\n" + lines[1].replace('"requester_id": 7003',
                                                           '"requester_id": 7003, "comments": 5'
                                                           ).replace('"comments": [', '"x": [', 1))
    with pytest.raises(DeskExportError, match=r"line 2: \$\.comments \(ticket 35437\): "
                                              "expected a list"):
        read_export(bad_line, bad_line.read_text())


def test_shapes_that_cannot_be_imported_say_why(tmp_path: Path) -> None:
    threads_only = tmp_path / "threads.json"
    threads_only.write_text(json.dumps({"_embedded": {"threads": [{"id": 1}]}}))
    with pytest.raises(DeskExportError, match="threads without their conversation"):
        read_export(threads_only, threads_only.read_text())
    comments_only = tmp_path / "comments.json"
    comments_only.write_text(json.dumps({"comments": [{"id": 1}]}))
    with pytest.raises(DeskExportError, match="comments without their ticket"):
        read_export(comments_only, comments_only.read_text(), "zendesk")
    intercom = DATA / "intercom_conversations.json"
    with pytest.raises(DeskExportError, match=r"no tickets found \(read as zendesk\)"):
        read_export(intercom, intercom.read_text(), "zendesk")


def test_a_plain_jsonl_quote_file_still_imports_as_before(
        cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = cli_env / "quotes.jsonl"
    path.write_text(json.dumps({"text": "The ticket form loses my draft", "speaker": "Ana",
                                "source": "support"}) + "\n")
    assert run("import", str(path), "--team", "T1") == 0
    assert "added 1, skipped 0 as duplicate, rejected 0" in capsys.readouterr().out
    assert run("import", str(path), "--team", "T1", "--ticket-url", "https://x/{id}") == 1
    assert "--ticket-url only applies" in capsys.readouterr().err
    assert run("import", str(DATA / "zendesk_tickets.json"), "--team", "T1",
               "--interviewer", "Sven") == 1
    assert "only apply to interview transcripts" in capsys.readouterr().err


# -- new:yes / new:no ------------------------------------------------------------------------

def test_new_filter_parses_and_refuses_nonsense() -> None:
    assert parse_query("new:yes export").filters.new_user is True
    assert parse_query("NEW:No export").filters.new_user is False
    q = parse_query("new:yes billing")
    assert q.topic == "billing" and q.describe_filters() == ["new users only"]
    assert "must be `new:yes`" in " ".join(parse_query("new:maybe x").problems)
    assert "together match nothing" in " ".join(parse_query("new:yes new:no x").problems)
    assert parse_query("export").filters.new_user is None and not parse_query("x").filters


def _seed(services, team: str = "T1") -> None:  # type: ignore[no-untyped-def]
    for name in ("zendesk_tickets.json", "intercom_conversations.json",
                 "helpscout_conversations.json"):
        services.transcripts.import_quotes(to_quotes(_read(name), DeskOptions(team_id=team)))
    # a tag that only looks like new_user, and one holding its quotes, are not it
    services.capture.save(NewQuote(team_id=team, text="Export keeps timing out",
                                   tags=('note="new_user"', "new_user_x", "x, \"new_user\"")))


def test_new_filter_on_both_databases(services) -> None:  # type: ignore[no-untyped-def]
    _seed(services)
    new = services.search.search("T1", parse_query("new:yes"), limit=50)
    old = services.search.search("T1", parse_query("new:no"), limit=50)
    assert {h.quote.speaker_name for h in new.hits} == {"Marta Kowalczyk", "Joel Amari",
                                                        "Noor Haddad"}
    assert all(NEW_USER_TAG in h.quote.tags for h in new.hits)
    assert {h.quote.speaker_name for h in old.hits} == {"Ines Duarte", "theo.vance",
                                                        "kiri.waititi", "pat.okoro", None}
    topic = services.search.search("T1", parse_query("new:yes charged twice refund"), limit=5)
    assert topic.hits and all(h.quote.speaker_name != "pat.okoro" for h in topic.hits)


# -- over HTTP, as Slack calls it ------------------------------------------------------------

def test_voice_new_yes_over_http(bot) -> None:  # type: ignore[no-untyped-def]
    """`/voice new:yes ...` shows only new users' words, says the filter; `/voice help`
    names it; a nonsense value is refused in the ack."""
    from tests.slack_harness import assert_valid_message

    _seed(bot.services, team="T0001")
    resp, _ = bot.command("help")
    assert "`new:yes`" in resp.json()["text"]
    resp, _ = bot.command("new:perhaps refund")
    assert "must be `new:yes`" in json.dumps(resp.json())
    resp, hook = bot.command("new:yes charged twice refund")
    assert resp.status == 200
    (reply,) = bot.responses(hook)
    assert_valid_message(reply)
    shown = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "Joel Amari" in shown and "new users only" in shown
    assert "pat.okoro" not in shown and "Ines Duarte" not in shown and "theo.vance" not in shown
    _, hook = bot.command("new:no invoices templates language")
    (reply,) = bot.responses(hook)
    shown = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "pat.okoro" in shown
    assert "Joel Amari" not in shown and "Marta Kowalczyk" not in shown


def test_markup_in_a_customers_comment_is_kept_as_words_and_never_posted_raw(
        bot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A customer who writes `<!channel>` or a link in Slack syntax gets exactly those words
    stored (HTML tags in an Intercom body are markup, converted away; their escaped text is
    the customer's words) and shown escaped."""
    data = json.loads((DATA / "intercom_conversations.json").read_text())
    part = data["conversations"][0]["conversation_parts"]["conversation_parts"][1]
    part["body"] = ("<p>Ping &lt;!channel&gt; and &lt;https://evil.example|click&gt; the "
                    "refund page is broken</p><script>alert(1)</script>")
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(data))
    quotes = to_quotes(read_export(path, path.read_text()), DeskOptions(team_id="T0001"))
    hostile = next(q for q in quotes if "Ping" in q.text)
    assert hostile.text == ("Ping <!channel> and <https://evil.example|click> the refund page "
                            "is broken")
    bot.services.transcripts.import_quotes(quotes)
    _, hook = bot.command("refund page is broken")
    (reply,) = bot.responses(hook)
    raw = json.dumps(reply, ensure_ascii=False)
    assert "&lt;!channel&gt;" in raw and "<!channel>" not in raw and "alert(1)" not in raw


def test_intercom_api_1_0_opening_message_and_a_conversation_list(tmp_path: Path) -> None:
    """API 1.0 named the opening message ``conversation_message``; a ``conversation.list``
    holds the conversations (the 1.0 example of the conversation part model)."""
    path = tmp_path / "v1.json"
    path.write_text(json.dumps({"type": "conversation.list", "conversations": [{
        "type": "conversation", "id": "147", "created_at": 1400850973,
        "conversation_message": {"type": "conversation_message", "subject": "",
                                 "body": "<p>Hi, the <b>export</b> button does nothing.</p>",
                                 "author": {"type": "user", "id": "536e564f316c83104c000020"},
                                 "attachments": []},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [
            {"type": "conversation_part", "id": "4412", "part_type": "comment",
             "body": "<p>Hi Jane, it's all great thanks!</p>", "created_at": 1400857494,
             "author": {"type": "admin", "id": "25"}, "attachments": []}]}}]}))
    export = read_export(path, path.read_text())
    assert [(c.comment_id, c.text, c.speaker) for c in export.comments] == [
        ("147:opening", "Hi, the export button does nothing.", None)]
    assert export.skipped == {"admin, bot and team parts": 1}


def test_zendesk_comment_of_unknown_authorship_is_not_taken_for_the_customers(
        tmp_path: Path) -> None:
    """Ticket events without their ticket or users: nobody is known to be the customer."""
    path = tmp_path / "events.json"
    path.write_text(json.dumps({"ticket_events": [{
        "id": 1, "ticket_id": 5, "created_at": "2026-01-01T00:00:00Z", "event_type": "Audit",
        "child_events": [{"id": 2, "event_type": "Comment", "public": True,
                          "body": "Words of someone we cannot place."},
                         {"id": 3, "event_type": "Comment", "public": True, "author_id": 9,
                          "body": "Words of user 9, whose role the file does not give."}]}]}))
    export = read_export(path, path.read_text())
    assert export.comments == []
    assert export.skipped == {"comments by someone the export does not describe": 2}
