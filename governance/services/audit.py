"""The only writer of audit entries, and the verifier of their hash chain."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

from sqlalchemy import select, update
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
    body = "".join(f"{len(v)}:{v};" for v in (str(id), stamp, actor, action, object_type,
                                               object_id, summary, details, client_address))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def utc_stamp(moment: datetime) -> str:
    """The timestamp as hashed: UTC, ISO 8601, microseconds."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


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


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    broken_id: int | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "broken_entry": self.broken_id,
                "reason": self.reason}


_COLUMNS = ("id, created_at, actor, action, object_type, object_id, summary, details, "
            "client_address, prev_hash, hash")


def _stored_stamp(value) -> str:
    """created_at as the driver returns it, in the hashed form. SQLite keeps UTC text
    'YYYY-MM-DD HH:MM:SS.ffffff'; PostgreSQL gives an aware datetime."""
    if isinstance(value, str):
        return value.replace(" ", "T", 1) + "+00:00"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return utc_stamp(value)


def _rows(session: Session, batch: int = 20000) -> Iterator[tuple]:
    """Raw rows in id order, a batch at a time: flat memory, no ORM cost per entry."""
    connection = session.connection()
    last = 0
    while True:
        rows = connection.exec_driver_sql(
            f"SELECT {_COLUMNS} FROM audit_entries WHERE id > {int(last)} "
            f"ORDER BY id LIMIT {batch}").fetchall()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def verify_chain(session: Session) -> ChainReport:
    """Walk the chain in order; name the first entry whose hash or link does not hold."""
    previous, expected_id, count = GENESIS_HASH, 1, 0
    sha256 = hashlib.sha256
    for (id_, created_at, actor, action, object_type, object_id, summary, details,
         client_address, prev_hash, stored_hash) in _rows(session):
        if id_ != expected_id:
            return ChainReport(False, count, expected_id,
                               f"entry {expected_id} is missing (next is {id_})")
        if prev_hash != previous:
            return ChainReport(False, count, id_,
                               "does not link to the previous entry's hash")
        body = "".join(f"{len(v)}:{v};" for v in (
            str(id_), _stored_stamp(created_at), actor, action, object_type, object_id,
            summary, details, client_address))
        if sha256((prev_hash + body).encode("utf-8")).hexdigest() != stored_hash:
            return ChainReport(False, count, id_,
                               "its content does not match its hash (altered)")
        previous, expected_id, count = stored_hash, expected_id + 1, count + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != previous or head.entries != count):
        return ChainReport(False, count, expected_id,
                           f"the chain head records {head.entries} entries ending in "
                           f"{head.last_hash[:12]}, but the table ends after {count}")
    return ChainReport(True, count)
