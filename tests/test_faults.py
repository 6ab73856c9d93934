"""Faults at real boundaries: the database goes away mid-capture; an import is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from store import db
from store.models import Quote
from tests.fakes import signing
from tests.fakes.slack_api import FakeSlack
from tests.fakes.tcp_proxy import TcpProxy
from tests.slack_harness import serve_bot

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.postgres
def test_capture_while_database_is_down_is_retried_not_lost(tmp_path: Path,
                                                            clean_postgres: str) -> None:
    url = make_url(clean_postgres)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        with FakeSlack() as slack, serve_bot(tmp_path, slack, database_url=proxied) as bot:
            slack.add_user("UCUST", "Casey Customer")
            ts = slack.add_message("C1", "Please add an audit trail for exports", user="UCUST")
            proxy.cut()
            bot.event(signing.reaction_added("U1", "loudspeaker", "C1", ts))
            (warning,) = slack.wait_for("chat.postEphemeral", timeout=20)
            assert "database is unavailable" in warning.params["text"]
            time.sleep(0.5)
            proxy.restore()
            calls = slack.wait_for("chat.postEphemeral", count=2, timeout=30)
            assert calls[1].params["text"].startswith("Saved as a user voice")
            with bot.services.sessions() as s:
                assert s.scalars(select(Quote.text)).all() == [
                    "Please add an audit trail for exports"]
            _, hook = bot.command("audit trail exports")
            (reply,) = bot.responses(hook)
            assert "Please add an audit trail" in str(reply["blocks"])
    finally:
        proxy.close()


SLOW_IMPORT = """
import sys, time
from bot.cli.main import main
from store.retrieval.embeddings import HashingEmbedder

class Slow(HashingEmbedder):
    def encode(self, texts, **kw):
        time.sleep(0.3)
        return super().encode(texts, **kw)

sys.exit(main(["import", sys.argv[1], "--team", "T1"], embedder=Slow()))
"""


def test_import_killed_halfway_resumes_without_duplicates(tmp_path: Path) -> None:
    csv = tmp_path / "big.csv"
    csv.write_text("text,speaker\n" + "".join(f"quote number {i},P{i % 50}\n"
                                              for i in range(3000)))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'imp.db'}",
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SLOW_IMPORT, str(csv)], env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    engine = db.make_engine(env["DATABASE_URL"])

    def stored() -> int:
        try:
            with engine.connect() as conn:
                return int(conn.scalar(select(func.count()).select_from(Quote)) or 0)
        except Exception:  # noqa: BLE001 - table not created yet
            return 0

    deadline = time.time() + 120
    while stored() < 1024 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = stored()
    assert 0 < partial < 3000 and partial % 512 == 0  # whole batches only
    rerun = subprocess.run([sys.executable, "-c", SLOW_IMPORT.replace("0.3", "0"), str(csv)],
                           env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"added {3000 - partial}, updated 0, unchanged {partial}," in rerun.stdout
    assert stored() == 3000
    engine.dispose()
