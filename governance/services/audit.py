"""The only writer of audit entries, and the verifier of their hash chain."""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import chain
from typing import Any, Iterator

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from ..models import AuditEntry, AuditHead, utcnow

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"


def canonical_details(details: Any) -> str:
    return json.dumps(details if details is not None else {}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(*, id: int, created_at: datetime | str, actor: str, action: str,
               object_type: str, object_id: str, summary: str, details: str,
               client_address: str, prev_hash: str) -> str:
    """SHA-256 over the previous entry's hash and a canonical serialisation of the entry:
    each field as <length>:<text>; so no choice of text can shift one field into another."""
    stamp = created_at if isinstance(created_at, str) else utc_stamp(created_at)
    body = _body(str(id), stamp, actor, action, object_type, object_id, summary, details,
                 client_address)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _body(a: str, b: str, c: str, d: str, e: str, f: str, g: str, h: str, i: str) -> str:
    # One format operation: the verifier runs this a million times.
    return (f"{len(a)}:{a};{len(b)}:{b};{len(c)}:{c};{len(d)}:{d};{len(e)}:{e};"
            f"{len(f)}:{f};{len(g)}:{g};{len(h)}:{h};{len(i)}:{i};")


def utc_stamp(moment: datetime) -> str:
    """The timestamp as hashed: UTC, ISO 8601, microseconds."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


# How long a writer waits for the chain's lock before it gives up (a 503 that says to try
# again): SQLite's busy timeout is the same (governance/__init__.py).
LOCK_WAIT_SECONDS = 10


def lock_chain(session: Session) -> None:
    """Take the lock every appender takes, first, before the change reads or locks
    anything: writers then queue in one order (no deadlock between a revocation and a
    leaver, say), and each judges the register as the one before it left it. A row lock on
    PostgreSQL, the write lock on SQLite; held until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        # PostgreSQL would wait for ever (and gunicorn kill the worker): as SQLite does,
        # give up after a while, for this transaction only.
        session.execute(text(f"SET LOCAL lock_timeout = '{int(LOCK_WAIT_SECONDS * 1000)}ms'"))
    session.execute(update(AuditHead).where(AuditHead.id == 1)
                    .values(entries=AuditHead.entries))


def record(session: Session, *, actor: str | None, action: str, object_type: str,
           object_id: Any, summary: str, details: Any = None,
           client_address: str | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction; it commits or rolls back with the change."""
    # Locking the head row first serialises appenders: a row lock on PostgreSQL, the
    # write lock on SQLite. The unique prev_hash is the last guard against a fork.
    locked = session.execute(update(AuditHead).where(AuditHead.id == 1)
                             .values(entries=AuditHead.entries + 1))
    if locked.rowcount == 0:
        session.add(AuditHead(id=1, entries=1, last_hash=GENESIS_HASH))
        session.flush()
    head = session.execute(select(AuditHead.entries, AuditHead.last_hash)
                           .where(AuditHead.id == 1)).one()
    last_id = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    entry = AuditEntry(
        id=(last_id or 0) + 1, created_at=utcnow(), actor=actor or SYSTEM_ACTOR,
        action=action, object_type=object_type, object_id=str(object_id),
        summary=summary[:500], details=canonical_details(details),
        client_address=client_address or "", prev_hash=head.last_hash)
    entry.hash = entry_hash(**_hashed_fields(entry))
    session.add(entry)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=entry.hash))
    session.flush()
    return entry


def _hashed_fields(entry: AuditEntry) -> dict:
    return {"id": entry.id, "created_at": entry.created_at, "actor": entry.actor,
            "action": entry.action, "object_type": entry.object_type,
            "object_id": entry.object_id, "summary": entry.summary,
            "details": entry.details, "client_address": entry.client_address,
            "prev_hash": entry.prev_hash}


# What a broken chain is, said to a person in the page's language; `reason` keeps the
# English words for the API, the CLI and the evidence pack.
REASONS = {
    "missing": _l("entry %(missing)s is missing"),
    "link": _l("it does not link to the previous entry's hash"),
    "altered": _l("its content does not match its hash (altered)"),
    "head": _l("the chain head records %(head)s entries, but the table ends after %(entries)s"),
    "anchor_missing": _l("entry %(id)s, noted earlier, is missing: the chain now ends after "
                         "%(entries)s entries (it was cut back)"),
    "anchor_changed": _l("entry %(id)s no longer has the hash noted earlier: the chain was "
                         "rewritten up to it"),
}


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    broken_id: int | None = None
    reason: str = ""
    kind: str = ""
    # The hash of the last entry verified: noted outside the register, it lets a later
    # verification (anchor) show that nothing up to that entry was rewritten.
    last_hash: str | None = None
    head_entries: int | None = None  # what the chain head records, when it disagrees

    @property
    def message(self):
        """Why the chain is broken, in the page's language."""
        return REASONS[self.kind] % {"missing": self.broken_id, "id": self.broken_id,
                                     "entries": self.entries, "head": self.head_entries} \
            if self.kind in REASONS else self.reason

    def as_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "broken_entry": self.broken_id,
                "reason": self.reason, "last_hash": self.last_hash}


_COLUMNS = ("id, created_at, actor, action, object_type, object_id, summary, details, "
            "client_address, prev_hash, hash")


# created_at as the database keeps it, in the same text on both engines: SQLite stores UTC
# text 'YYYY-MM-DD HH:MM:SS.ffffff'; PostgreSQL formats its timestamp in UTC the same way.
# The walk turns it into the hashed form (utc_stamp) with one replace, which costs less
# here than in SQLite's own replace() and || (5.8 -> 5.5 us an entry in CPU time).
_STAMP = {
    "sqlite": "created_at",
    "postgresql": "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
}


def _rows(connection, lo: int = 1, hi: int | None = None,
          batch: int = 20000) -> Iterator[tuple]:
    """Raw rows in id order, a batch at a time, straight from the driver's cursor: flat
    memory, and no per-row cost beyond the driver's own. `connection` is a SQLAlchemy
    Connection."""
    raw = connection.connection.driver_connection
    # PostgreSQL: a server-side cursor, so a million rows are not held in memory at once.
    cursor = (raw.cursor(name=f"audit_verify_{lo}") if connection.dialect.name == "postgresql"
              else raw.cursor())
    where = f"WHERE id >= {int(lo)}" + (f" AND id <= {int(hi)}" if hi is not None else "")
    # The stamp as text straight from the database: no datetime made and unmade per entry.
    columns = _COLUMNS.replace("created_at", _STAMP[connection.dialect.name])
    try:
        cursor.execute(f"SELECT {columns} FROM audit_entries {where} ORDER BY id")
        while True:
            rows = cursor.fetchmany(batch)
            if not rows:
                return
            yield from rows
    finally:
        cursor.close()


HASH_RECIPE = (
    "hash = SHA-256 (hex) of the UTF-8 bytes of prev_hash followed by, for each of id, "
    "created_at, actor, action, object_type, object_id, summary, details, client_address in "
    "that order, the field's length in characters, ':', the field and ';'. The first "
    f"entry's prev_hash is {GENESIS_HASH}.")


def chain_lines(connection, up_to: int | None = None) -> Iterator[bytes]:
    """The chain as JSON lines, each entry's fields exactly as hashed (HASH_RECIPE), so
    anyone can recompute every hash from the file alone, without the formula guard a
    spreadsheet's copy needs."""
    names = [name.strip() for name in _COLUMNS.split(",")]
    batch: list[str] = []
    for row in _rows(connection, 1, up_to):
        entry = dict(zip(names, row))
        entry["created_at"] = entry["created_at"].replace(" ", "T") + "+00:00"
        batch.append(json.dumps(entry, ensure_ascii=False))
        if len(batch) == 5000:
            yield ("\n".join(batch) + "\n").encode("utf-8")
            batch = []
    if batch:
        yield ("\n".join(batch) + "\n").encode("utf-8")


@dataclass(frozen=True)
class _Stretch:
    """What one walk over a stretch of ids found: its ends, and its first fault if any."""

    first_prev: str | None
    last_hash: str | None
    count: int
    broken_id: int | None = None
    reason: str = ""
    kind: str = ""


def _walk(rows: Iterator[tuple], first_id: int, previous: str | None) -> _Stretch:
    """Check each entry's own hash, and the links inside the stretch (and to `previous`
    when it is known)."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return _Stretch(None, previous, 0)
    first_prev = first[9]
    if previous is None:
        previous = first_prev  # the link into the stretch is checked by the caller
    expected_id, sha256 = first_id, hashlib.sha256
    for (id_, created_at, actor, action, object_type, object_id, summary, details,
         client_address, prev_hash, stored_hash) in chain((first,), rows):
        if id_ != expected_id:
            return _Stretch(first_prev, previous, expected_id - first_id, expected_id,
                            f"entry {expected_id} is missing (next is {id_})", "missing")
        if prev_hash != previous:
            return _Stretch(first_prev, previous, expected_id - first_id, id_,
                            "does not link to the previous entry's hash", "link")
        try:
            stamp = created_at.replace(" ", "T") + "+00:00"
            hashed = sha256((prev_hash + _body(str(id_), stamp, actor, action, object_type,
                                               object_id, summary, details, client_address)
                             ).encode()).hexdigest()
        except (AttributeError, TypeError):
            hashed = None  # a field that is not text any more: written around the app
        if hashed != stored_hash:
            return _Stretch(first_prev, previous, expected_id - first_id, id_,
                            "its content does not match its hash (altered)", "altered")
        previous, expected_id = stored_hash, expected_id + 1
    return _Stretch(first_prev, previous, expected_id - first_id)


def _walk_in_process(url: str, lo: int, hi: int) -> _Stretch:
    """One worker process: its own connection, its own stretch of the chain."""
    from sqlalchemy import create_engine
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return _walk(_rows(connection, lo, hi), lo, None)
    finally:
        engine.dispose()


# Below this many entries one process is quicker than starting others.
PARALLEL_FROM = 200_000


def verify_chain(session: Session, workers: int | None = None,
                 anchor: tuple[int, str] | None = None) -> ChainReport:
    """Walk the chain in order; name the first entry whose hash or link does not hold.
    A long chain is walked in stretches by several processes, then the stretches'
    ends are linked up here. `anchor` (entry id, hash noted earlier, or its first
    characters) must still be in the chain as it was."""
    head = session.get(AuditHead, 1)
    last_id = session.scalar(select(func.max(AuditEntry.id))) or 0
    url = session.get_bind().url
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if last_id >= PARALLEL_FROM else 1
    if workers > 1 and url.database not in (None, "", ":memory:"):
        stretches = _walk_parallel(url.render_as_string(hide_password=False), last_id,
                                   workers)
    else:
        stretches = [_walk(_rows(session.connection()), 1, GENESIS_HASH)]
    previous, count = GENESIS_HASH, 0
    for stretch in stretches:
        if stretch.count and stretch.first_prev != previous:
            return ChainReport(False, count, count + 1,
                               "does not link to the previous entry's hash", "link")
        if stretch.broken_id is not None:
            return ChainReport(False, count + stretch.count, stretch.broken_id,
                               stretch.reason, stretch.kind)
        count += stretch.count
        previous = stretch.last_hash or previous
    if count != last_id:
        return ChainReport(False, count, count + 1, f"entry {count + 1} is missing",
                           "missing")
    if head is not None and (head.last_hash != previous or head.entries != count):
        return ChainReport(False, count, count + 1,
                           f"the chain head records {head.entries} entries ending in "
                           f"{head.last_hash[:12]}, but the table ends after {count}", "head",
                           head_entries=head.entries)
    if anchor is not None:
        anchor_id, anchor_hash = anchor
        if anchor_id > count:
            return ChainReport(False, count, anchor_id,
                               f"entry {anchor_id}, noted earlier, is missing: the chain now "
                               f"ends after {count} entries (it was cut back)",
                               "anchor_missing")
        stored = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == anchor_id))
        if stored is None or not stored.startswith(anchor_hash.lower()):
            return ChainReport(False, count, anchor_id,
                               f"entry {anchor_id} no longer has the hash noted earlier: "
                               "the chain was rewritten up to it", "anchor_changed")
    return ChainReport(True, count, last_hash=None if count == 0 else previous)


_ANCHOR = re.compile(r"([1-9]\d{0,8}):([0-9a-fA-F]{16,64})")


def parse_anchor(value: str | None) -> tuple[int, str] | None:
    """NUMBER:HASH, an entry and its hash as an earlier verification gave them (the hash
    may be cut to its first 16 characters or more); None when no anchor is given. One given
    empty is refused: "--anchor $NOTED" with nothing noted must not look like a check that
    passed."""
    from .errors import InvalidInput
    if value is None:
        return None
    if not value.strip():
        raise InvalidInput(_l("'anchor' is empty: give the entry and its hash as "
                              "NUMBER:HASH, or leave the parameter out"), field="anchor")
    match = _ANCHOR.fullmatch(value.strip())
    if match is None:
        raise InvalidInput(_l("'%(value)s' is not an anchor: give an entry's number and its "
                              "hash (at least its first 16 characters) as NUMBER:HASH",
                              value=value), field="anchor")
    return int(match.group(1)), match.group(2)


def _walk_parallel(url: str, last_id: int, workers: int) -> list[_Stretch]:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context
    size = -(-last_id // workers)
    bounds = [(lo, min(lo + size - 1, last_id)) for lo in range(1, last_id + 1, size)]
    with ProcessPoolExecutor(max_workers=len(bounds), mp_context=get_context("fork")) as pool:
        return list(pool.map(_walk_in_process, [url] * len(bounds),
                             [lo for lo, _ in bounds], [hi for _, hi in bounds]))
