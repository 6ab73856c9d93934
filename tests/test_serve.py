"""`voicebot serve` as deployed: a real process, the bundled model, HTTP on a port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack

SECRET = "serve-test-signing-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.model
def test_serve_http_mode_end_to_end(tmp_path: Path) -> None:
    port = free_port()
    with FakeSlack() as slack:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
               "SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": slack.base_url, "VOICEBOT_LOG_JSON": "true"}
        env.pop("SLACK_APP_TOKEN", None)
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port),
                                 "--host", "127.0.0.1"], env=env, cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            url = f"http://127.0.0.1:{port}"
            status = None
            deadline = time.time() + 180
            while time.time() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                        status = r.status
                        break
                except urllib.error.HTTPError as exc:
                    assert exc.code == 503  # starting: not ready before the model is loaded
                except OSError:
                    pass
                time.sleep(0.5)
            assert status == 200, "server never became ready"
            assert slack.calls_to("auth.test"), "team id comes from auth.test"
            ts = slack.add_message("C1", "The mobile app logs me out every single day",
                                   user="U1")
            slack.add_user("U1", "Pat Customer")
            body = signing.event_callback(signing.reaction_added("U2", "loudspeaker", "C1", ts))
            assert signing.post(url + "/slack/events", *body, SECRET).status == 200
            slack.wait_for("chat.postEphemeral", timeout=30)
            hook = slack.new_response_url()
            resp = signing.post(url + "/slack/events", *signing.slash_command(
                "keeps logging me out", response_url=hook), SECRET)
            assert resp.status == 200 and resp.elapsed < 3
            (reply,) = [c.params for c in slack.wait_for("response_url", timeout=30)]
            assert "The mobile app logs me out every single day" in str(reply["blocks"])
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=30)
        assert '"message": "ready"' in out
