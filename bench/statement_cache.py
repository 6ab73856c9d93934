"""SQLite memory kept by prepared statements as a search's evidence list grows.

A search reads the evidence of every quote matching its topic in one ``IN (...)`` list
(store/queries/search.py ``views_and_evidence``); the number of matches grows with the
stored quotes. Python's ``sqlite3`` keeps up to 128 prepared statements per connection, one
per distinct SQL text. This runs that query on one connection for every list length from 1
to ``--up-to`` and prints ``sqlite3_memory_used`` beyond the start (page caches apart), so
the cost of one statement per length (before store/queries/id_lists.py) and of the padded
lengths (after) can be compared on the same machine.

    python bench/statement_cache.py [--up-to 400]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench import server_probe as probe  # noqa: E402
from store.models import Base  # noqa: E402
from store.queries import search  # noqa: E402

SHOWN = (1, 10, 50, 100, 128, 200, 300, 400, 600, 800, 1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--up-to", type=int, default=400)
    args = parser.parse_args()
    sqlite = probe._sqlite()
    if sqlite is None:
        print("libsqlite3 not found")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/statements.db")
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.connection()
            start = sqlite.sqlite3_memory_used()
            pages = probe._sqlite_status(sqlite, probe.SQLITE_STATUS_PAGECACHE_OVERFLOW)
            print("ids in the list  sqlite3_memory_used beyond the start (page cache apart)")
            for n in range(1, args.up_to + 1):
                ids = list(range(1, n + 1))
                search.views_and_evidence(session, "T1", ids[:5], ids)
                if n in SHOWN or n == args.up_to:
                    now_pages = probe._sqlite_status(
                        sqlite, probe.SQLITE_STATUS_PAGECACHE_OVERFLOW)
                    used = sqlite.sqlite3_memory_used() - start - (now_pages - pages)
                    print(f"{n:>15}  {used / 1024:8.0f} KiB")
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
