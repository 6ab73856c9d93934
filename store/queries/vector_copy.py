"""Reading every stored vector at start-up, by group: how many quotes each team has per
(model, vector size) (:func:`groups`), and on PostgreSQL through psycopg the vectors of
chosen groups straight into float32 matrices (:func:`copy_groups`), with one ``COPY ... TO
STDOUT (FORMAT BINARY)``: each row is then a fixed-size record parsed with NumPy in blocks,
with no Python object per row (bench/PERF.md, start to ready on PostgreSQL). Vectors outside
the chosen groups (another model's, another size, none stored) are read row by row
(:func:`other_rows`), or by :func:`store.queries.quotes.stored_vectors` on other backends.

Functions take a Session and never commit.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Quote
from store.queries.quotes import StoredRow

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
BLOCK = 4096  # records parsed at a time (~6 MiB at 384 dimensions)


@dataclass(frozen=True)
class VectorGroup:
    """``count`` quotes of ``team_id`` whose vector ``model`` made, ``size`` bytes each
    (``size`` None: no vector stored)."""

    team_id: str
    model: str | None
    size: int | None
    count: int

    @property
    def copyable(self) -> bool:
        """Whether :func:`copy_groups` can read it: a model named and whole float32s."""
        return self.model is not None and self.size is not None and self.size > 0 \
            and self.size % 4 == 0


@dataclass
class GroupVectors:
    """A group's vectors: ``matrix``'s first ``len(ids)`` rows, in no particular order; the
    rows after them are room to grow."""

    group: VectorGroup
    ids: np.ndarray  # int64
    matrix: np.ndarray  # float32, (>= len(ids), size // 4)


def available(session: Session) -> bool:
    """Whether :func:`copy_groups` works on this session's database (PostgreSQL, psycopg)."""
    dialect = session.get_bind().dialect
    return (dialect.name, dialect.driver) == ("postgresql", "psycopg")


def snapshot(session: Session) -> None:
    """Make the session's next transaction see one snapshot (PostgreSQL: REPEATABLE READ,
    read only), so :func:`groups` counts exactly what the reads after it return. Call it
    before the session runs anything; elsewhere it does nothing."""
    if available(session) and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ",
                                              "postgresql_readonly": True})


def groups(session: Session) -> list[VectorGroup]:
    """Every (team, model, vector size) with its quote count: each team's largest first."""
    size = func.length(Quote.embedding)
    rows = session.execute(select(Quote.team_id, Quote.embedding_model, size, func.count())
                           .group_by(Quote.team_id, Quote.embedding_model, size)).all()
    out = [VectorGroup(t, m, None if s is None else int(s), int(n)) for t, m, s, n in rows]
    return sorted(out, key=lambda g: (g.team_id, -g.count, g.model or "", g.size or 0))


def copy_groups(session: Session, wanted: Sequence[VectorGroup],
                capacity: Callable[[int], int]) -> Iterator[GroupVectors]:
    """The vectors of ``wanted`` (copyable groups, at most one per team: a team's rows are
    told apart by that), each into a new float32 matrix of ``capacity(count)`` rows (more
    if rows were added since :func:`groups` counted them): one COPY per vector size."""
    by_size: dict[int, list[VectorGroup]] = {}
    for g in wanted:
        if not g.copyable:
            raise ValueError(f"cannot copy {g}: no model or not float32 vectors")
        by_size.setdefault(int(g.size or 0), []).append(g)
    if len({g.team_id for g in wanted}) != len(wanted):
        raise ValueError("copy_groups reads at most one group per team")
    raw: Any = session.connection().connection.driver_connection
    for size, chosen in by_size.items():
        yield from _copy_size(raw, size, chosen, capacity)


def _copy_size(raw: Any, size: int, chosen: list[VectorGroup],
               capacity: Callable[[int], int]) -> Iterator[GroupVectors]:
    from psycopg import sql

    values = sql.SQL(", ").join(
        sql.SQL("({}::int4, {}, {}, {}::int4)").format(n, g.team_id, g.model, size)
        for n, g in enumerate(chosen))
    # the rows: int16 3, (int32 4, int32 group), (int32 8, int64 id), (int32 size, vector)
    statement = sql.SQL(
        "COPY (SELECT g.n, q.id::int8, q.embedding FROM quotes q JOIN (VALUES {}) "
        "AS g(n, team, model, size) ON q.team_id = g.team AND q.embedding_model = g.model "
        "AND octet_length(q.embedding) = g.size) TO STDOUT (FORMAT BINARY)").format(values)
    record = np.dtype([("fields", ">i2"), ("n_len", ">i4"), ("n", ">i4"), ("id_len", ">i4"),
                       ("id", ">i8"), ("vec_len", ">i4"), ("vec", np.uint8, (size,))])
    sinks = [_Sink(g, capacity) for g in chosen]
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        parts: list[Any] = []
        pending = 0
        head: bytearray | None = bytearray()
        for chunk in copy:
            if head is not None:  # the header: signature, flags, extension
                head += chunk
                if len(head) < 19:
                    continue
                if not head.startswith(SIGNATURE):
                    raise ValueError("COPY BINARY: not the expected header")
                skip = 19 + struct.unpack(">i", head[15:19])[0]
                if len(head) < skip:
                    continue
                chunk, head = bytes(head[skip:]), None
            parts.append(chunk)
            pending += len(chunk)
            if pending >= BLOCK * record.itemsize:
                rest = _parse(b"".join(parts), record, sinks)
                parts, pending = [rest], len(rest)
        rest = _parse(b"".join(parts), record, sinks)
        if rest != b"\xff\xff":
            raise ValueError("COPY BINARY: not the expected trailer")
    for sink in sinks:
        yield sink.done()


def _parse(data: bytes, record: np.dtype, sinks: list[_Sink]) -> bytes:
    """Hand the whole records in ``data`` to their groups' matrices; the bytes after them."""
    k = len(data) // record.itemsize
    if k == 0:
        return data
    rows = np.frombuffer(data, record, count=k)
    size = record["vec"].shape[0]
    if ((rows["fields"] != 3).any() or (rows["n_len"] != 4).any()
            or (rows["id_len"] != 8).any() or (rows["vec_len"] != size).any()):
        raise ValueError("COPY BINARY: a row is not (group, id, vector)")
    if len(sinks) == 1:
        sinks[0].put(rows["id"], rows["vec"])
    else:
        n = rows["n"]
        for g in np.unique(n).tolist():
            at = n == g
            sinks[g].put(rows["id"][at], rows["vec"][at])
    return data[k * record.itemsize:]


class _Sink:
    """One group's matrix, filled block by block."""

    def __init__(self, group: VectorGroup, capacity: Callable[[int], int]) -> None:
        self.group = group
        rows = max(capacity(group.count), group.count)
        self.matrix = np.empty((rows, int(group.size or 0) // 4), dtype=np.float32)
        self.ids = np.empty(rows, dtype=np.int64)
        self.n = 0

    def put(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        end = self.n + len(ids)
        if end > len(self.matrix):  # rows added since they were counted: grow (rare)
            grown = max(end, int(len(self.matrix) * 1.25) + 1)
            matrix = np.empty((grown, self.matrix.shape[1]), dtype=np.float32)
            matrix[: self.n] = self.matrix[: self.n]
            self.matrix = matrix
            self.ids = np.resize(self.ids, grown)
        self.matrix.view(np.uint8)[self.n : end] = vectors
        self.ids[self.n : end] = ids
        self.n = end

    def done(self) -> GroupVectors:
        return GroupVectors(self.group, self.ids[: self.n].copy(), self.matrix)


def other_rows(session: Session, copied: Sequence[VectorGroup], *,
               batch: int = 20_000) -> Iterator[list[StoredRow]]:
    """(team_id, id, embedding, model) of the quotes outside the ``copied`` groups (another
    model's vectors, another size, no vector), ``batch`` rows at a time in id order."""
    from sqlalchemy import and_, not_, or_

    size = func.length(Quote.embedding)
    outside = not_(or_(*[and_(Quote.team_id == g.team_id, Quote.embedding_model == g.model,
                              size == g.size) for g in copied])) if copied else None
    stmt = select(Quote.team_id, Quote.id, Quote.embedding, Quote.embedding_model)
    if outside is not None:  # a NULL model or vector makes the match NULL: outside too
        stmt = stmt.where(or_(Quote.embedding.is_(None), Quote.embedding_model.is_(None),
                              outside))
    stmt = stmt.order_by(Quote.id).limit(batch)
    last = 0
    while rows := cast(list[StoredRow], [tuple(r) for r in
                                         session.execute(stmt.where(Quote.id > last))]):
        yield rows
        last = rows[-1][1]
