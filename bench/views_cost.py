"""Where a topic search's one SQL round trip (``store.queries.search.views_and_tally``) spends
its time on SQLite, and whether a covering index would make its counted-quotes part cheaper.

A fresh SQLite file is filled with bench/perf's stored quotes (``bench.perf.corpus``: real
sentences, their vectors fanned out with noise) at ``--size``; each label-name topic is ranked
and counted with the shipped ranking, as in a channel (1% of quotes hidden), and the ids it
shows and counts are read back, alternating per topic:

- ``sqlite3``: the statement alone on a plain ``sqlite3`` connection (the engine's PRAGMAs);
- ``execute``: the same through a SQLAlchemy session (``session.execute(...).all()``);
- ``views_and_tally``: the whole call, building the QuoteViews and the tally;
- ``new connection``: the whole call on a Core connection of its own, as SearchService
  reads the views (its connection comes from the engine's pool, which also serves the
  look-up of hidden quotes on another thread: here a session holds one connection
  throughout);
- ``new session``: the same in an ORM session of its own (how SearchService read them
  before);
- ``shown only``: the statement with no counted ids (what the breadth part costs);
- ``covering``: the statement on a copy of the file with an index covering every column the
  counted part reads, which SQLite is made to use (``INDEXED BY``); it must return the same
  rows.

    python bench/views_cost.py [--size 100000] [--cache /tmp/v.npz]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.perf.common import TEAM, pct  # noqa: E402
from bench.perf.corpus import insert_rows, load_corpus, make_vectors  # noqa: E402
from bench.rank_cost import Hidden, add_corpus_arguments, vectors  # noqa: E402

COVER = ("CREATE INDEX ix_bench_counted ON quotes (id, team_id, voice_id, speaker_user_id, "
         "speaker_name, company, said_at, captured_at)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    add_corpus_arguments(parser)
    args = parser.parse_args()

    from sqlalchemy import select
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.orm import sessionmaker

    from bot.blas import limit_blas
    from store import db
    from store.models import Quote
    from store.queries import search as sq
    from store.retrieval import ranking
    from store.retrieval.index import QuoteIndex

    limit_blas(1)
    pool_vecs, topic_vecs = vectors(args.data, args.pool, args.cache)
    vecs = make_vectors(pool_vecs, args.size, args.noise)
    texts = load_corpus(args.data).texts[2000 : 2000 + args.pool]  # as bench.perf's pool
    folder = Path(tempfile.mkdtemp(prefix="voicebot-views-"))
    try:
        path, covered = folder / "plain.db", folder / "covered.db"
        url = f"sqlite:///{path}"
        db.upgrade(url)
        insert_rows(url, texts, vecs, 0, args.size, "bench")
        shutil.copy(path, covered)
        with sqlite3.connect(covered) as c:
            c.execute(COVER)
        engine = db.make_engine(url)
        sessions = sessionmaker(engine)
        with sessions() as s:
            ids = np.asarray(s.scalars(select(Quote.id).where(Quote.team_id == TEAM)
                                       .order_by(Quote.id)).all(), dtype=np.int64)
        index = QuoteIndex(vecs.shape[1])
        index.load(ids, np.ascontiguousarray(vecs))  # ids in insertion order: row i is vecs[i]
        allowed = Hidden(args.size)
        work = []
        for q in topic_vecs:
            ranked, matched = ranking.rank_and_count(q, index, k=20, allowed=allowed)
            work.append(([i for i, _ in ranked], [i for i, _ in matched]))

        compiled = sq._found_statement("sqlite").compile(dialect=sqlite_dialect.dialect())
        sql = str(compiled)
        start = sql.index("FROM quotes", sql.index("counted AS MATERIALIZED"))
        sql_covered = (sql[:start] + "FROM quotes INDEXED BY ix_bench_counted"
                       + sql[start + len("FROM quotes"):])

        def bound(shown: list[int], counted: list[int]) -> list[object]:
            values = compiled.construct_params(
                {"team": TEAM, "shown": json.dumps(shown), "counted": json.dumps(counted)})
            return [values[k] for k in compiled.positiontup or ()]

        plain_c, covered_c = sqlite3.connect(path), sqlite3.connect(covered)
        for c in (plain_c, covered_c):
            c.execute(f"PRAGMA cache_size=-{db.SQLITE_CACHE_KIB}")
        took: dict[str, list[float]] = {k: [] for k in (
            "sqlite3", "covering", "shown only", "execute", "views_and_tally",
            "new connection", "new session")}
        with sessions() as session:
            stmt = sq._found_statement("sqlite")
            for _ in range(args.rounds):
                for shown, counted in work:
                    t = time.perf_counter()
                    plain = plain_c.execute(sql, bound(shown, counted)).fetchall()
                    took["sqlite3"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    cover = covered_c.execute(sql_covered, bound(shown, counted)).fetchall()
                    took["covering"].append(time.perf_counter() - t)
                    if cover != plain:
                        raise SystemExit("the covering index returned other rows")
                    t = time.perf_counter()
                    plain_c.execute(sql, bound(shown, [])).fetchall()
                    took["shown only"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    session.execute(stmt, {"team": TEAM, "shown": json.dumps(shown),
                                           "counted": json.dumps(counted)}).all()
                    took["execute"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    sq.views_and_tally(session, TEAM, shown, counted)
                    took["views_and_tally"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    with engine.connect() as connection:
                        sq.views_and_tally(connection, TEAM, shown, counted)
                    took["new connection"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    with sessions() as own:
                        sq.views_and_tally(own, TEAM, shown, counted)
                    took["new session"].append(time.perf_counter() - t)
        plain_c.close()
        covered_c.close()
        engine.dispose()
        counts = [len(c) for _, c in work]
        print(f"{args.size:,} quotes, {len(work)} topics x {args.rounds}: shown 20, counted "
              f"median {np.median(counts):.0f} (max {max(counts)}); ms")
        print(f"  {'':16} {'median':>8} {'p95':>8}")
        for name, values in took.items():
            ms = [v * 1000 for v in values]
            print(f"  {name:16} {np.median(ms):8.3f} {pct(ms, 95):8.3f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
