"""Fresh databases for a run (SQLite files or PostgreSQL databases), dropped at the end."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

from bench.perf.common import log


class BenchDatabases:
    """Fresh databases for the run; dropped (or deleted) at the end.

    SQLite: files in a temp folder (or at the given path, which must not exist yet).
    PostgreSQL: ``CREATE DATABASE voicebot_bench_<id>[_ingest]`` through the given URL, whose
    own database is never written to.
    """

    def __init__(self, url: str | None, keep: bool = False) -> None:
        from sqlalchemy.engine import make_url

        self.keep = keep
        self.created: list[str] = []
        self.tmpdir: str | None = None
        self.files: list[Path] = []
        self.admin_engine = None
        if url is None:
            self.tmpdir = tempfile.mkdtemp(prefix="voicebot-bench-")
            self.base = make_url(f"sqlite:///{self.tmpdir}/bench.db")
        else:
            self.base = make_url(url)
        self.backend = self.base.get_backend_name()
        if self.backend == "sqlite":
            path = Path(self.base.database or "")
            if not self.base.database or self.base.database == ":memory:":
                raise SystemExit("bench.perf: give SQLite as a file URL (sqlite:///path.db)")
            if url is not None and path.exists():
                raise SystemExit(f"bench.perf: {path} exists; the benchmark needs a fresh "
                                 "file and will delete it afterwards. Pick a new path.")
        elif self.backend == "postgresql":
            from store import db

            self.admin_engine = db.make_engine(
                self.base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
            self.prefix = f"voicebot_bench_{uuid.uuid4().hex[:8]}"
        else:
            raise SystemExit(f"bench.perf: unsupported database backend {self.backend!r}")

    @property
    def label(self) -> str:
        return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[self.backend]

    def fresh(self, suffix: str) -> str:
        """The URL of a new, empty database."""
        from sqlalchemy import text

        if self.backend == "sqlite":
            base = Path(self.base.database)
            path = base if not suffix else base.with_name(f"{base.stem}-{suffix}{base.suffix}")
            for extra in ("", "-wal", "-shm"):
                Path(str(path) + extra).unlink(missing_ok=True)
            self.files.append(path)
            return self.base.set(database=str(path)).render_as_string(hide_password=False)
        name = self.prefix + (f"_{suffix}" if suffix else "")
        with self.admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.base.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        if self.keep:
            return
        name = make_url(url).database
        if self.backend == "sqlite":
            for extra in ("", "-wal", "-shm"):
                Path(str(name) + extra).unlink(missing_ok=True)
            return
        if name in self.created:
            with self.admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.created.remove(name)

    def close(self) -> None:
        if self.keep:
            log(f"--keep: left databases {self.created or [str(f) for f in self.files]}")
            return
        if self.backend == "postgresql":
            for name in list(self.created):
                self.drop(self.base.set(database=name).render_as_string(hide_password=False))
            self.admin_engine.dispose()
        else:
            for f in self.files:
                for extra in ("", "-wal", "-shm"):
                    Path(str(f) + extra).unlink(missing_ok=True)
            if self.tmpdir:
                shutil.rmtree(self.tmpdir, ignore_errors=True)


