"""`voicebot serve` as a newcomer first runs it: tokens checked with Slack before anything
else (one line and exit 1 when Slack refuses them or cannot be reached), then a short,
readable start: version, mode, database, model, workspace, quotes, ready."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fakes.slack_api import FakeSlack
from tests.test_serve import free_port

APP_TOKEN = "xapp-1-A1-start-test"


def serve_env(tmp_path: Path, slack_api_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "VOICEBOT_", "DATABASE_URL"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'start.db'}",
                "SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_API_URL": slack_api_url,
                "PORT": str(free_port()), **extra})
    return env


def run_serve(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def assert_one_line_failure(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def test_a_wrong_bot_token_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with FakeSlack() as slack:
        env = serve_env(tmp_path, slack.base_url, SLACK_BOT_TOKEN="xoxb-not-the-right-one",
                        SLACK_SIGNING_SECRET="start-test-secret")
        done = run_serve(tmp_path, env)
        assert [c.method for c in slack.calls] == ["auth.test"]  # checked before the model
    line = assert_one_line_failure(done, "auth.test", "invalid_auth", "SLACK_BOT_TOKEN")
    assert line.startswith("error: ") and "xoxb-not" not in line  # the token is not echoed


def test_slack_unreachable_is_one_line_naming_what_to_check(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    env = serve_env(tmp_path, closed, SLACK_SIGNING_SECRET="start-test-secret")
    line = assert_one_line_failure(run_serve(tmp_path, env), "auth.test", closed,
                                   "network", "SLACK_API_URL")
    assert "refused" in line.lower()


def test_a_wrong_app_token_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with FakeSlack() as slack:
        slack.enable_socket_mode(APP_TOKEN)
        env = serve_env(tmp_path, slack.base_url, SLACK_APP_TOKEN="xapp-1-A1-wrong")
        done = run_serve(tmp_path, env)
    assert_one_line_failure(done, "apps.connections.open", "invalid_auth", "SLACK_APP_TOKEN")


def test_a_web_api_that_is_not_slack_is_named(tmp_path: Path) -> None:
    with FakeSlack() as slack:
        slack.server_error("auth.test", status=502)
        env = serve_env(tmp_path, slack.base_url, SLACK_SIGNING_SECRET="start-test-secret")
        line = assert_one_line_failure(run_serve(tmp_path, env), "auth.test", "HTTP 502",
                                       "SLACK_API_URL")
        assert slack.base_url in line


@contextmanager
def serving(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"],
                                env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
                                text=True)
        try:
            yield proc, log
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def wait_for_line(proc: subprocess.Popen[str], log: Path, needle: str,
                  timeout: float = 240) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text()
        if needle in text:
            return text
        assert proc.poll() is None, f"serve exited early:\n{text}"
        time.sleep(0.3)
    raise AssertionError(f"{needle!r} never logged:\n{log.read_text()}")


@pytest.mark.model
def test_socket_mode_serve_starts_cleanly_and_answers_over_the_socket(tmp_path: Path) -> None:
    from urllib.parse import parse_qsl

    from tests.fakes import signing

    with FakeSlack() as slack:
        fake_socket = slack.enable_socket_mode(APP_TOKEN)
        env = serve_env(tmp_path, slack.base_url, SLACK_APP_TOKEN=APP_TOKEN,
                        DATABASE_URL=f"sqlite:///{tmp_path / 'start.db'}")
        with serving(tmp_path, env) as (proc, log):
            wait_for_line(proc, log, "ready")
            hook = slack.new_response_url()
            body, _ = signing.slash_command("help", response_url=hook)
            envelope_id = fake_socket.send_envelope("slash_commands", dict(parse_qsl(body)),
                                                    accepts_response_payload=True)
            ack = fake_socket.wait_ack(envelope_id, timeout=15)
            assert ack is not None, "serve did not acknowledge /voice over the socket"
            print(f"socket mode ack from a real `voicebot serve`: {ack.seconds * 1000:.0f} ms")
        text = log.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    start = lines[:next(i for i, x in enumerate(lines) if ": ready" in x) + 1]
    assert len(start) <= 8, "\n".join(start)
    joined = "\n".join(start)
    for needle in ("voicebot 0.1.0", "Socket Mode", "database sqlite:///", "model ",
                   "quotes=", "Slack workspace Fake Team", "ready"):
        assert needle in joined, joined
    for noise in ("setup plugin", "As you gave `client`", "Loading weights", "\r", "%|",
                  "Context impl", "Traceback"):
        assert noise not in text, text


@pytest.mark.model
def test_json_logs_stay_json_from_the_first_line(tmp_path: Path) -> None:
    with FakeSlack() as slack:
        env = serve_env(tmp_path, slack.base_url, SLACK_SIGNING_SECRET="start-test-secret",
                        VOICEBOT_LOG_JSON="true")
        with serving(tmp_path, env) as (proc, log):
            wait_for_line(proc, log, '"message": "ready"')
        text = log.read_text()
    records = [json.loads(line) for line in text.splitlines() if line.strip()]  # all JSON
    messages = [r["message"] for r in records]
    assert messages[0].startswith("voicebot 0.1.0: HTTP on port")
    assert "ready" in messages and len(messages) <= 8, messages


def test_the_database_is_shown_without_its_password() -> None:
    from store.db import display_url

    shown = display_url("postgresql+psycopg://voicebot:s3cret@db.example:5432/voicebot")
    assert shown == "postgresql+psycopg://voicebot:***@db.example:5432/voicebot"
    assert display_url("sqlite:///voicebot.db") == "sqlite:///voicebot.db"


def test_progress_bars_only_on_a_terminal_and_never_among_json(capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.cli.common import Progress
    from bot.logs import configure_logging, progress_bars

    configure_logging("INFO", as_json=False)  # pytest's captured stderr is not a terminal
    assert not progress_bars()
    bar = Progress("re-embedding", total=10)
    bar.update(5)
    bar.close()
    assert capsys.readouterr().err == ""
    configure_logging("INFO", as_json=True)
    assert not progress_bars() and os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS") == "1"


def test_migrating_logs_no_alembic_chatter(tmp_path: Path) -> None:
    env = serve_env(tmp_path, "http://127.0.0.1:9/api/")
    done = subprocess.run([sys.executable, "-m", "bot", "-v", "db", "upgrade"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for noise in ("setup plugin", "Context impl", "Will assume"):
        assert noise not in done.stderr
    assert "database is up to date" in done.stdout


def test_bolt_does_not_warn_about_the_token_it_read_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from tests.slack_harness import serve_bot

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")  # slack-bolt's App reads it
    with caplog.at_level("WARNING"), FakeSlack() as slack, serve_bot(tmp_path, slack):
        pass
    assert not [r for r in caplog.records if "`token` will be unused" in r.getMessage()]
