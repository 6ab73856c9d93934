"""What a newcomer meets in the first hour on the command line: finding the team id, the
digest switch and preview, and the small cuts (URLs, exit codes, pipes, dry runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.cli.main import main
from store.retrieval.embeddings import HashingEmbedder


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'first.db'}")
    monkeypatch.delenv("VOICEBOT_EMBEDDING_MODEL", raising=False)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(*argv: str) -> int:
    return main(list(argv), embedder=HashingEmbedder())


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("text,speaker,company,segment,said_at\n" + "\n".join(rows) + "\n")
    return path


# ---- finding the team id ----------------------------------------------------------------
def test_teams_lists_workspaces_with_names_and_counts(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("teams") == 0
    empty = capsys.readouterr().out
    assert "No workspace yet" in empty and "App Home" in empty and "/voice help" in empty
    csv = write_csv(env / "a.csv", ["Export is slow,Ana,Acme,smb,2026-11-02",
                                    "Search is great,Bo,Initech,enterprise,2026-11-03"])
    assert run("import", str(csv), "--team", "T0AAA") == 0
    assert run("import", str(write_csv(env / "b.csv", ["Billing is confusing,Cy,,,"])),
               "--team", "T0BBB") == 0
    from bot.config import Settings
    from bot.container import build_services

    services = build_services(Settings.from_env(), embedder=HashingEmbedder())
    services.workspaces.ensure("T0AAA", "Acme Product\x1b[2J")  # a name from Slack
    services.workspaces.ensure("T0CCC", "Newly installed")  # no quotes yet
    services.close()
    capsys.readouterr()
    assert run("teams") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].split()[:3] == ["T0AAA", "2", "quotes"] and "Acme Product\\x1b[2J" in lines[0]
    assert lines[1].split()[:3] == ["T0BBB", "1", "quote"] and "(name unknown)" in lines[1]
    assert lines[2].split()[:3] == ["T0CCC", "0", "quotes"] and "Newly installed" in lines[2]


def test_import_without_team_on_an_empty_store_says_where_the_id_is(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = write_csv(env / "a.csv", ["Export is slow,Ana,Acme,smb,2026-11-02"])
    assert run("import", str(csv)) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--team" in err
    assert "App Home" in err and "/voice help" in err
    assert run("import", str(csv), "--team", "T0AAA") == 0
    assert run("import", str(csv)) == 0  # one workspace known: it is used
    assert run("import", str(write_csv(env / "b.csv", ["Other words,Bo,,,"])),
               "--team", "T0BBB") == 0
    capsys.readouterr()
    assert run("import", str(csv)) == 1
    assert "voicebot teams" in capsys.readouterr().err


# ---- in Slack: the team id and the digest switch -----------------------------------------
def test_voice_help_prints_the_team_id_and_the_digest_commands(tmp_path: Path) -> None:
    from tests.fakes.slack_api import FakeSlack
    from tests.slack_harness import serve_bot

    with FakeSlack() as slack, serve_bot(tmp_path, slack) as bot:
        resp, _ = bot.command("help")
        text = json.dumps(resp.json())
        assert "`T0001`" in text and "voicebot import --team" in text
        assert "/voice digest here monday 09:00 Europe/Paris" in text
        assert "/voice digest off" in text
        # the digest's "off" answer says how to turn it on
        _, hook = bot.command("digest")
        (reply,) = bot.responses(hook)
        assert "*off*" in reply["text"] and "/voice digest here" in reply["text"]
        # a forged team id in the command is refused, never echoed as this workspace's id
        resp, _ = bot.command("help", team_id="T0FORGED")
        assert "T0FORGED" not in resp.text


def test_app_home_shows_team_id_and_a_digest_set_up_button(tmp_path: Path) -> None:
    from tests.fakes import signing
    from tests.fakes.slack_api import FakeSlack
    from tests.slack_harness import assert_valid_view, serve_bot

    with FakeSlack() as slack, serve_bot(tmp_path, slack) as bot:
        slack.add_user("UADM", "Ada Admin", is_admin=True)
        slack.add_user("U2", "Bo Teammate")
        slack.add_channel("C1", "general")
        bot.event(signing.app_home_opened("UADM"))
        (home,) = slack.wait_for("views.publish")
        view = home.params["view"]
        assert_valid_view(view)
        text = json.dumps(view)
        assert "Workspace id `T0001`" in text and "voicebot import --team T0001" in text
        assert "Weekly digest: *off*" in text and "Set up the weekly digest" in text
        assert "at *0* compan" not in text  # no zero parts
        slack.reset_calls()
        bot.send(signing.block_actions("home_digest_setup", "settings", user_id="UADM"))
        (opened,) = slack.wait_for("views.open")
        assert opened.params["view"]["callback_id"] == "workspace_settings_modal"
        # someone who may not change settings gets no button, and a forged click is refused
        slack.reset_calls()
        bot.event(signing.app_home_opened("U2"))
        (home,) = slack.wait_for("views.publish")
        assert "home_digest_setup" not in json.dumps(home.params["view"])
        bot.send(signing.block_actions("home_digest_setup", "settings", user_id="U2"))
        (refused,) = slack.wait_for("views.open")
        assert "Only workspace admins and owners" in json.dumps(refused.params["view"])
        # once on, the button goes and the schedule is shown
        bot.services.workspaces.update("T0001", digest_channel="C1")
        bot.services.workspaces._cache.clear()
        slack.reset_calls()
        bot.event(signing.app_home_opened("UADM"))
        (home,) = slack.wait_for("views.publish")
        text = json.dumps(home.params["view"])
        assert "home_digest_setup" not in text and "<#C1>, Mondays at 09:00" in text


def test_digest_post_when_off_says_how_to_turn_it_on(
        env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    csv = write_csv(env / "a.csv", ["Export is slow,Ana,Acme,smb,2026-11-02"])
    assert run("import", str(csv), "--team", "T0AAA") == 0
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    capsys.readouterr()
    assert run("digest", "--post") == 0
    out = capsys.readouterr().out
    assert "off" in out and "/voice digest here monday 09:00 Europe/Paris" in out


# ---- digest preview ----------------------------------------------------------------------
def test_digest_preview_shows_the_week_in_progress_right_after_an_import(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = write_csv(env / "a.csv", ["Export is slow,Ana,,smb,",
                                    "Search is slow too,Bo,,,"])
    assert run("import", str(csv), "--team", "T0AAA") == 0
    capsys.readouterr()
    assert run("digest") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("User voices \u00b7 so far this week (")
    assert "quiet week" not in out
    assert "2 new quotes from 2 people." in out  # no "at 0 companies"
    today = datetime.now(timezone.utc)
    assert f"captured {today:%Y-%m-%d}" in out or \
        f"captured {today - timedelta(days=1):%Y-%m-%d}" in out  # no said date: labelled
    # --week: a past week, 7 days on 7 calendar dates; nothing was captured then
    assert run("digest", "--week", "2026-11-02") == 0
    past = capsys.readouterr().out
    assert past.splitlines()[0] == "User voices \u00b7 week of Nov 02 \u2013 Nov 08, 2026"
    assert "A quiet week" in past
    assert run("digest", "--week", "02/11/2026") == 1
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_a_scheduled_week_header_spans_seven_days_and_zero_parts_are_dropped() -> None:
    from bot.core.digest import DigestData
    from bot.slack.views.digest import digest_blocks, digest_text

    start = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
    data = DigestData(team_id="T1", start=start, end=start + timedelta(days=7), total=3,
                      people=2, companies=0, themes=(), frustrated=(), confused=(),
                      disappointed=(), delighted=(), used=(), habits=())
    assert digest_text(data).splitlines()[0] == \
        "User voices \u00b7 week of Nov 30 \u2013 Dec 06, 2026"
    _, blocks = digest_blocks(data)
    text = json.dumps(blocks, ensure_ascii=False)
    assert "Nov 30 \u2013 Dec 06, 2026" in text
    assert "*3* new quotes from *2* people." in text and "compan" not in text


# ---- the command line's small cuts --------------------------------------------------------
def test_postgres_scheme_is_accepted_and_others_refused_in_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from store.db import make_engine

    engine = make_engine("postgres://user:pw@127.0.0.1:1/voicebot")
    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()
    for url, needle in (("mysql://u:p@localhost/db", "mysql:// databases are not supported"),
                        ("postgresql+asyncpg://u@localhost/db", "driver for "),
                        ("mongodb://localhost", "not supported")):
        monkeypatch.setenv("DATABASE_URL", url)
        assert run("db", "current") == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: DATABASE_URL: ") and needle in err and "\n" not in err
        assert "Traceback" not in err


def test_db_current_exits_non_zero_when_migrations_are_pending(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("db", "current") == 1  # a new file: every migration is pending
    assert capsys.readouterr().out.strip() == "needs `voicebot db upgrade`"
    assert run("db", "upgrade") == 0
    capsys.readouterr()
    assert run("db", "current") == 0
    assert capsys.readouterr().out.strip() == "up to date"


def test_search_json_into_a_closed_pipe_ends_quietly(env: Path) -> None:
    padding = " and it keeps happening every single day" * 30  # > a pipe buffer in all
    rows = [f"Quote number {i} about exports being slow{padding},Person {i},,,"
            for i in range(100)]
    csv = write_csv(env / "many.csv", rows)
    assert run("import", str(csv), "--team", "T0AAA") == 0
    script = ("import sys; from bot.cli.main import main; "
              "from store.retrieval.embeddings import HashingEmbedder; "
              "sys.exit(main(sys.argv[1:], embedder=HashingEmbedder()))")
    reader = subprocess.Popen(["head", "-c", "100"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL)
    done = subprocess.run([sys.executable, "-c", script, "search", "--json", "--limit", "100",
                           "exports"], stdout=reader.stdin, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": os.getcwd()}, timeout=300)
    assert reader.stdin is not None
    reader.stdin.close()
    reader.wait(timeout=30)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr
    assert done.returncode in (0, 141)


def test_forget_without_yes_and_without_a_terminal_is_a_dry_run(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = write_csv(env / "a.csv", ["Export is slow,Dana Lee,Acme,smb,2026-11-02"])
    assert run("import", str(csv), "--team", "T0AAA") == 0
    capsys.readouterr()
    assert run("forget", "--speaker", "Dana Lee") == 0
    out = capsys.readouterr().out
    assert "dry run: nothing deleted; 1 quote would be deleted. Rerun with --yes" in out
    assert run("search", "--text", "Export is slow") == 0
    assert "Export is slow" in capsys.readouterr().out  # still there


def test_an_empty_search_says_so_once(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("search", "--team", "T0AAA", "anything") == 0
    out = capsys.readouterr().out
    assert "No quotes found." in out and "nearest" not in out
    assert run("search", "--team", "T0AAA", "segment:enterprise", "billing") == 0
    assert "No quotes found with these filters." in capsys.readouterr().out


def test_attribution_has_no_stray_comma() -> None:
    from bot.cli.terminal import attribution
    from store.queries.quotes import QuoteView

    def view(**kw: object) -> QuoteView:
        base: dict[str, object] = dict(
            id=1, team_id="T1", text="x", speaker_name="Dana Lee", speaker_user_id=None,
            speaker_team_id=None, company=None, segment=None, source_kind="interview",
            source_url=None, channel_id=None, message_ts=None, thread_ts=None,
            is_private=False, shareable=False, first_hand=True, relayed_by=None,
            captured_by=None, captured_at=datetime(2026, 11, 30, tzinfo=timezone.utc),
            said_at=datetime(2026, 11, 2, tzinfo=timezone.utc), tags=(), emotion=None,
            emotion_confidence=None, embedding_model=None)
        base.update(kw)
        return QuoteView(**base)  # type: ignore[arg-type]

    assert attribution(view(company="Acme Corp", segment="enterprise")).startswith(
        "Dana Lee, Acme Corp (enterprise) · interview · 2026-11-02")
    assert attribution(view(speaker_name="Dana Lee, Acme Corp", segment="enterprise")) \
        .startswith("Dana Lee, Acme Corp (enterprise) · ")
    assert attribution(view(speaker_name="Dana Lee,", company="", segment=None)) \
        .startswith("Dana Lee · interview")
    assert "captured 2026-11-30" in attribution(view(said_at=None))


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from bot import __version__

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"voicebot {__version__}"
