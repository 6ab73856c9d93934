"""Many workspaces over OAuth: install, isolation on every surface, rotation, uninstall."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core.query import parse_query
from store.models import Quote
from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack
from tests.slack_harness import Bot, serve_bot


def install(bot: Bot, team_id: str) -> None:
    """The browser side of the OAuth flow: /slack/install, then the redirect back."""
    with urllib.request.urlopen(bot.url + "/slack/install") as page:
        html = page.read().decode()
        cookie = page.headers["Set-Cookie"].split(";")[0]
    state = re.search(r"state=([\w-]+)", html).group(1)
    req = urllib.request.Request(
        f"{bot.url}/slack/oauth_redirect?code=code-{team_id}&state={state}",
        headers={"Cookie": cookie})
    with urllib.request.urlopen(req) as done:
        assert done.status == 200


@pytest.fixture
def multi(tmp_path) -> Iterator[Bot]:  # type: ignore[no-untyped-def]
    with FakeSlack() as slack:
        slack.tokens.clear()
        slack.add_user("UA", "Alice at A")
        slack.add_user("UB", "Bob at B")
        slack.add_user("UEXT", "Erin External", team_id="TEXT")
        slack.add_channel("CA", "a-general")
        slack.add_channel("CB", "b-general")
        with serve_bot(tmp_path, slack, slack_bot_token=None,
                       slack_client_id=slack.client_id,
                       slack_client_secret=slack.client_secret,
                       on_uninstall="delete") as bot:
            install(bot, "TA")
            install(bot, "TB")
            yield bot


def capture(bot: Bot, team: str, channel: str, text: str, user: str) -> None:
    ts = bot.slack.add_message(channel, text, user=user)
    before = len(bot.slack.calls_to("chat.postEphemeral"))
    bot.event(signing.reaction_added(user, "loudspeaker", channel, ts), team_id=team)
    bot.slack.wait_for("chat.postEphemeral", count=before + 1)


def test_install_stores_one_token_per_workspace(multi: Bot) -> None:
    exchanges = multi.slack.calls_to("oauth.v2.access")
    assert [c.params["code"] for c in exchanges] == ["code-TA", "code-TB"]
    capture(multi, "TA", "CA", "Billing exports are always late", "UA")
    (get,) = multi.slack.calls_to("reactions.get")
    assert multi.slack.token_teams[get.token] == "TA"


def test_workspace_a_never_sees_workspace_b(multi: Bot) -> None:
    capture(multi, "TA", "CA", "Billing exports are always late", "UA")
    capture(multi, "TB", "CB", "Billing page crashes on Safari", "UB")
    # /voice
    resp = multi.send(signing.slash_command("billing", team_id="TB", channel_id="CB",
                                            response_url=(hook := multi.slack.new_response_url())))
    assert resp.status == 200
    (reply,) = multi.responses(hook)
    assert "Safari" in json.dumps(reply) and "always late" not in json.dumps(reply)
    # @mention in a thread
    multi.event(signing.app_mention("<@UBOT> billing", "UB", "CB", multi.slack.next_ts(),
                                    thread_ts="1.0", team_id="TB"), team_id="TB")
    (post,) = [c for c in multi.slack.wait_for("chat.postMessage") if c.params["channel"] == "CB"]
    assert "Safari" in json.dumps(post.params) and "always late" not in json.dumps(post.params)
    # App Home
    multi.event(signing.app_home_opened("UB"), team_id="TB")
    (home,) = multi.slack.wait_for("views.publish")
    assert "Safari" in json.dumps(home.params) and "always late" not in json.dumps(home.params)
    assert multi.slack.token_teams[home.token] == "TB"
    # digest
    now = multi.services.clock() + timedelta(days=1)
    data = multi.services.digests.build("TB", now - timedelta(days=7), now, "CB")
    texts = [v.text for v, _ in data.used] + [h.user_id for h in data.habits]
    assert (data.total, data.people) == (1, 1) and "UA" not in texts
    assert all(v.team_id == "TB" for v, _ in data.used)
    # CLI-level search (the service the CLI calls)
    hits = multi.services.search.search("TB", parse_query("billing exports late")).hits
    assert [h.quote.text for h in hits] == ["Billing page crashes on Safari"]
    # sharing a quote id of another workspace through a forged button value
    with multi.services.sessions() as s:
        a_id = s.scalar(select(Quote.id).where(Quote.team_id == "TA"))
    hook = multi.slack.new_response_url()
    multi.send(signing.block_actions("voice_share", json.dumps({"id": a_id, "c": "CB"}),
                                     team_id="TB", channel_id="CB", response_url=hook))
    (refused,) = multi.responses(hook)
    assert "deleted" in refused["text"]
    assert not [c for c in multi.slack.calls_to("chat.postMessage")
                if "always late" in json.dumps(c.params)]


def test_slack_connect_member_keeps_their_organisation(multi: Bot) -> None:
    capture(multi, "TA", "CA", "Your API rate limits block our sync", "UEXT")
    with multi.services.sessions() as s:
        quote = s.scalars(select(Quote)).one()
    assert quote.speaker_team_id == "TEXT" and quote.speaker_name == "Erin External"


def test_token_rotation_refreshes_expiring_tokens(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with FakeSlack() as slack:
        slack.tokens.clear()
        slack.token_lifetime = 60  # expires within Bolt's rotation window at once
        slack.add_channel("CA", "a-general")
        slack.add_user("UA", "Alice at A")
        with serve_bot(tmp_path, slack, slack_bot_token=None, slack_client_id=slack.client_id,
                       slack_client_secret=slack.client_secret) as bot:
            install(bot, "TA")
            first = next(iter(slack.token_teams))
            capture(bot, "TA", "CA", "Search is slow", "UA")
            refresh = [c for c in slack.calls_to("oauth.v2.access")
                       if c.params.get("grant_type") == "refresh_token"]
            assert refresh, "an expiring token is refreshed before use"
            (get,) = slack.calls_to("reactions.get")
            assert get.token != first and slack.token_teams[get.token] == "TA"


def test_uninstall_deletes_quotes_when_configured(multi: Bot) -> None:
    capture(multi, "TA", "CA", "Keep me", "UA")
    capture(multi, "TB", "CB", "Delete me on uninstall", "UB")
    multi.event({"type": "app_uninstalled", "event_ts": "1.0"}, team_id="TB")

    def gone() -> bool:
        with multi.services.sessions() as s:
            return [q.text for q in s.scalars(select(Quote))] == ["Keep me"]

    import time
    deadline = time.time() + 10
    while not gone() and time.time() < deadline:
        time.sleep(0.05)
    assert gone()
    resp_hook = multi.slack.new_response_url()
    resp = multi.send(signing.slash_command("anything", team_id="TB", response_url=resp_hook))
    assert resp.status == 200
    (notice,) = multi.responses(resp_hook)
    assert "not installed in this workspace" in notice["text"]
    with multi.services.engine.connect() as conn:
        from sqlalchemy import text
        assert conn.execute(text("select team_id from slack_bots")).scalars().all() == ["TA"]


def test_single_workspace_refuses_other_team_ids(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with FakeSlack() as slack, serve_bot(tmp_path, slack) as bot:
        resp, _ = bot.command("billing", team_id="T9999")
        assert resp.status == 401
        resp, hook = bot.command("billing")
        assert resp.status == 200
        (answer,) = bot.responses(hook)  # answered (before the fake Slack stops)
        assert answer["response_type"] == "ephemeral"


def test_oauth_pages_without_state_fail_cleanly(multi: Bot) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(multi.url + "/slack/oauth_redirect?code=code-TX&state=forged")
    assert err.value.code in (400, 401, 403)
