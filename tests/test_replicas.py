"""Two `voicebot serve` processes behind one PostgreSQL answer alike (as behind a load
balancer): captures and deletions show up in both, and the digest is posted once."""

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

from bot.config import Settings
from bot.container import build_services
from store.retrieval.embeddings import HashingEmbedder
from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack

SECRET = "replica-signing-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else "exited"
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise AssertionError(f"{url} never became ready")


def voice(url: str, slack: FakeSlack, topic: str) -> str:
    hook = slack.new_response_url()
    resp = signing.post(url + "/slack/events", *signing.slash_command(
        topic, response_url=hook), SECRET)
    assert resp.status == 200
    deadline = time.time() + 30
    while time.time() < deadline:
        for call in slack.calls_to("response_url"):
            if call.params["_url"] == hook:
                return str(call.params.get("blocks") or call.params.get("text"))
        time.sleep(0.05)
    raise AssertionError("no reply")


@pytest.mark.model
@pytest.mark.postgres
def test_two_serve_processes_share_one_postgres(tmp_path: Path, clean_postgres: str) -> None:
    with FakeSlack() as slack:
        slack.add_channel("CDIG", "product")
        slack.add_user("UCUST", "Casey Customer")
        setup = build_services(Settings(database_url=clean_postgres), embedder=HashingEmbedder())
        setup.workspaces.update("T0001", digest_channel="CDIG", digest_weekday=0,
                                digest_time="00:00", digest_timezone="UTC")
        setup.close()
        env = {**os.environ, "DATABASE_URL": clean_postgres, "SLACK_BOT_TOKEN": "xoxb-test-token",
               "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.base_url,
               "VOICEBOT_SYNC_SECONDS": "1", "VOICEBOT_DIGEST_INTERVAL": "1"}
        env.pop("SLACK_APP_TOKEN", None)
        ports = [free_port(), free_port()]
        procs = [subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1",
                                   "--port", str(p)], env=env, cwd=tmp_path,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for p in ports]
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        try:
            for url, proc in zip(urls, procs):
                wait_ready(url, proc)
            ts = slack.add_message("C1", "The Android app drains my battery overnight",
                                   user="UCUST")
            body = signing.event_callback(signing.reaction_added("U1", "loudspeaker", "C1", ts))
            assert signing.post(urls[0] + "/slack/events", *body, SECRET).status == 200
            slack.wait_for("chat.postEphemeral", timeout=30)
            deadline = time.time() + 10
            while "drains my battery" not in voice(urls[1], slack, "battery drain android"):
                assert time.time() < deadline, "capture through one never reached the other"
                time.sleep(0.5)
            deleted = {"type": "message", "subtype": "message_deleted", "channel": "C1",
                       "deleted_ts": ts, "event_ts": ts}
            assert signing.post(urls[1] + "/slack/events",
                                *signing.event_callback(deleted), SECRET).status == 200
            deadline = time.time() + 10
            while any("drains my battery" in voice(u, slack, "battery drain android")
                      for u in urls):
                assert time.time() < deadline, "deletion did not reach both processes"
                time.sleep(0.5)
            time.sleep(3)  # both schedulers have ticked several times
            digests = [c for c in slack.calls_to("chat.postMessage")
                       if c.params.get("channel") == "CDIG"]
            assert len(digests) == 1
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.communicate(timeout=30)
