"""OAuth tokens are encrypted at rest with VOICEBOT_SECRET_KEY: installs and token
refreshes store no readable token, the bot works with the decrypted one, keys rotate, rows
stored in plaintext before are encrypted by the upgrade, and a missing or wrong key is
refused with a message that says what to do."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import text

from bot.cli.main import main
from bot.config import Settings
from bot.slack.installations import installation_store
from store import db
from store.retrieval.embeddings import HashingEmbedder
from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack
from tests.slack_harness import Bot, serve_bot
from tests.test_workspaces_e2e import capture, install

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def run(*argv: str) -> int:
    return main(list(argv), embedder=HashingEmbedder())


TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


def raw_token_rows(url: str) -> str:
    """Everything stored in slack-sdk's installation tables, as one string."""
    engine = db.make_engine(url)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for table in ("slack_bots", "slack_installations")
                for r in conn.execute(text(f"select * from {table}"))]
    engine.dispose()
    assert rows, "nothing installed"
    return json.dumps(rows, default=str)


def readable_tokens(url: str) -> list[str]:
    """Stored token values that are not Fernet tokens (which all start with gAAAAA)."""
    engine = db.make_engine(url)
    with engine.connect() as conn:
        rows = [r._mapping for table in ("slack_bots", "slack_installations")
                for r in conn.execute(text(f"select * from {table}"))]
    engine.dispose()
    return [v for r in rows for c in TOKEN_COLUMNS if (v := r.get(c))
            and not v.startswith("gAAAAA")]


def has_slack_token(dump: str) -> bool:
    return re.search(r"xox[abposre][-.]", dump) is not None


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.tokens.clear()
        fake.add_user("UA", "Alice at A")
        fake.add_channel("CA", "a-general")
        yield fake


def oauth_bot(tmp_path: Path, slack: FakeSlack, *keys: str, **kw):  # type: ignore[no-untyped-def]
    return serve_bot(tmp_path, slack, slack_bot_token=None, slack_client_id=slack.client_id,
                     slack_client_secret=slack.client_secret, secret_keys=keys, **kw)


def voice_works(bot: Bot, team: str = "TA") -> None:
    hook = bot.slack.new_response_url()
    resp = bot.send(signing.slash_command("exports", team_id=team, channel_id="CA",
                                          response_url=hook))
    assert resp.status == 200
    (reply,) = bot.responses(hook)
    assert "Exports" in json.dumps(reply)


def test_install_and_refresh_store_no_readable_token_and_the_bot_uses_it(
        tmp_path: Path, slack: FakeSlack) -> None:
    slack.token_lifetime = 60  # rotating tokens: a refresh token is stored, then refreshed
    with oauth_bot(tmp_path, slack, KEY_A) as bot:
        install(bot, "TA")
        capture(bot, "TA", "CA", "Exports to CSV take forever", "UA")
        (get,) = slack.calls_to("reactions.get")
        assert slack.token_teams[get.token] == "TA"  # Slack saw the real, decrypted token
        assert [c for c in slack.calls_to("oauth.v2.access")
                if c.params.get("grant_type") == "refresh_token"], "the token was refreshed"
        stored = raw_token_rows(bot.settings.database_url)
        assert not has_slack_token(stored) and get.token not in stored
        assert readable_tokens(bot.settings.database_url) == []
        assert stored.count('"gAAAA') >= 3  # bot token and refresh token, both tables
        voice_works(bot)


def test_long_rotating_tokens_fit_once_encrypted(database_url: str) -> None:
    """A ~150-character `xoxe.xoxp-` token is ~300 characters encrypted: more than
    slack-sdk's String(200), which PostgreSQL enforces."""
    engine = db.make_engine(database_url)
    settings = Settings(database_url=database_url, slack_client_id="1111.2222",
                        slack_client_secret="s", secret_keys=(KEY_A,))
    store = installation_store(settings, engine)
    long_bot = "xoxe.xoxb-1-" + "B" * 140
    long_user, refresh = "xoxe.xoxp-1-" + "U" * 140, "xoxe-1-" + "R" * 145
    store.save(Installation(app_id="A1", enterprise_id=None, team_id="TL", user_id="U1",
                            bot_token=long_bot, bot_id="B1", bot_user_id="UB",
                            bot_refresh_token=refresh, bot_token_expires_in=3600,
                            user_token=long_user, user_refresh_token=refresh,
                            user_token_expires_in=3600,
                            installed_at=datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()))
    bot = store.find_bot(enterprise_id=None, team_id="TL")
    assert (bot.bot_token, bot.bot_refresh_token) == (long_bot, refresh)
    found = store.find_installation(enterprise_id=None, team_id="TL", user_id="U1")
    assert (found.user_token, found.user_refresh_token, found.bot_token) == \
        (long_user, refresh, long_bot)
    engine.dispose()
    assert not has_slack_token(raw_token_rows(database_url))
    assert readable_tokens(database_url) == []


def test_rotate_reencrypts_so_the_old_key_can_be_dropped(
        tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    with oauth_bot(tmp_path, slack, KEY_A) as bot:
        install(bot, "TA")
        capture(bot, "TA", "CA", "Exports to CSV take forever", "UA")
        url = bot.settings.database_url
    before = raw_token_rows(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("VOICEBOT_SECRET_KEY", f"{KEY_B},{KEY_A}")
    assert run("secrets", "rotate") == 0
    out = capsys.readouterr().out
    assert "re-encrypted 2 token(s) with the newest key" in out
    assert "older keys in VOICEBOT_SECRET_KEY can now be removed" in out
    after = raw_token_rows(url)
    assert after != before and not has_slack_token(after) and readable_tokens(url) == []
    with oauth_bot(tmp_path, slack, KEY_B) as bot:  # the old key is gone
        voice_works(bot)


def test_a_token_under_an_unknown_key_is_refused_clearly(
        tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    with oauth_bot(tmp_path, slack, KEY_A) as bot:
        install(bot, "TA")
        url = bot.settings.database_url
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("VOICEBOT_SECRET_KEY", KEY_B)  # KEY_A lost or forgotten
    for argv in (["secrets", "rotate"], ["secrets", "encrypt"]):
        assert run(*argv) == 1
        err = capsys.readouterr().err
        (line,) = [x for x in err.splitlines() if x.startswith("error:")]
        assert line.startswith("error: a stored Slack token was encrypted with a key that is "
                               "not in VOICEBOT_SECRET_KEY")
        assert "InvalidToken" not in err and "cryptography" not in err  # no traceback
    monkeypatch.setenv("SLACK_CLIENT_ID", slack.client_id)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", slack.client_secret)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "a-real-signing-secret-123")
    assert run("serve", "--port", "0") == 1  # refused before listening
    assert "key that is not in VOICEBOT_SECRET_KEY" in capsys.readouterr().err
    assert readable_tokens(url) == []  # nothing was rewritten


def test_plaintext_tokens_from_before_are_encrypted_by_the_upgrade(
        tmp_path: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    db.upgrade(url, "0005")  # a database from before encryption
    engine = db.make_engine(url)
    legacy = "xoxb-TA-legacy"
    slack.tokens.add(legacy)
    slack.token_teams[legacy] = "TA"
    SQLAlchemyInstallationStore(slack.client_id, engine).save(Installation(
        app_id="A1", enterprise_id=None, team_id="TA", user_id="U1", bot_token=legacy,
        bot_id="BBOT", bot_user_id="UBOT", bot_scopes="chat:write,commands,reactions:read"))
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    assert run("db", "upgrade") == 0  # without a key: it says what to do
    out = capsys.readouterr().out
    assert "2 Slack token(s) are stored in plaintext; set VOICEBOT_SECRET_KEY" in out
    assert "voicebot secrets encrypt" in out and legacy in raw_token_rows(url)
    monkeypatch.setenv("VOICEBOT_SECRET_KEY", KEY_A)
    assert run("db", "upgrade") == 0
    assert "encrypted 2 plaintext Slack token(s)" in capsys.readouterr().out
    assert not has_slack_token(raw_token_rows(url)) and readable_tokens(url) == []
    with oauth_bot(tmp_path, slack, KEY_A) as bot:
        capture(bot, "TA", "CA", "Exports to CSV take forever", "UA")
        (get,) = slack.calls_to("reactions.get")
        assert get.token == legacy


def test_oauth_without_a_key_refuses_to_start_and_says_how_to_make_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'k.db'}")
    monkeypatch.setenv("SLACK_CLIENT_ID", "1111.2222")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "fake-client-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "a-real-signing-secret-123")
    monkeypatch.delenv("VOICEBOT_SECRET_KEY", raising=False)
    assert run("serve", "--port", "0") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: VOICEBOT_SECRET_KEY is not set.")
    assert "voicebot secrets new-key" in err and "Fernet.generate_key()" in err
    assert run("secrets", "new-key") == 0
    key = capsys.readouterr().out.strip()
    Fernet(key)  # a usable key
    assert Settings.from_env({"VOICEBOT_SECRET_KEY": f"{key},{KEY_A}"}).secret_keys == \
        (key, KEY_A)
    monkeypatch.setenv("VOICEBOT_SECRET_KEY", "not-a-key")
    assert run("serve", "--port", "0") == 1
    assert "VOICEBOT_SECRET_KEY is not a Fernet key" in capsys.readouterr().err
