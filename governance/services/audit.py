"""The only writer of audit entries, and the verifier of their hash chain."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import AuditEntry, AuditHead, utcnow

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"


def canonical_details(details: Any) -> str:
    return json.dumps(details if details is not None else {}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(*, id: int, created_at: datetime, actor: str, action: str, object_type: str,
               object_id: str, summary: str, details: str, client_address: str,
               prev_hash: str) -> str:
    """SHA-256 over a canonical serialisation of the entry and its predecessor's hash."""
    body = json.dumps({
        "id": id, "created_at": created_at.isoformat(timespec="microseconds"),
        "actor": actor, "action": action, "object_type": object_type,
        "object_id": object_id, "summary": summary, "details": details,
        "client_address": client_address, "prev_hash": prev_hash,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


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


def _entries(session: Session, batch: int = 10000) -> Iterator[Any]:
    """Plain rows in id order, a batch at a time, so memory stays flat on long chains."""
    table, last = AuditEntry.__table__, 0
    while True:
        rows = session.execute(select(table).where(table.c.id > last)
                               .order_by(table.c.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def verify_chain(session: Session) -> ChainReport:
    """Walk the chain in order; name the first entry whose hash or link does not hold."""
    previous, expected_id, count = GENESIS_HASH, 1, 0
    for entry in _entries(session):
        if entry.id != expected_id:
            return ChainReport(False, count, expected_id,
                               f"entry {expected_id} is missing (next is {entry.id})")
        if entry.prev_hash != previous:
            return ChainReport(False, count, entry.id,
                               "does not link to the previous entry's hash")
        if entry_hash(**_hashed_fields(entry)) != entry.hash:
            return ChainReport(False, count, entry.id,
                               "its content does not match its hash (altered)")
        previous, expected_id, count = entry.hash, expected_id + 1, count + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != previous or head.entries != count):
        return ChainReport(False, count, expected_id,
                           f"the chain head records {head.entries} entries ending in "
                           f"{head.last_hash[:12]}, but the table ends after {count}")
    return ChainReport(True, count)
