"""The register against its audit trail: each grant as it stands must be the state its
last audit entries recorded. The chain proves the trail unaltered; this shows that the
register rows the pages and reports are built from were not changed around the app (an
access marked removed in the database with no record of who removed it, say)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEntry, Grant
from .audit import canonical_details
from .grants import snapshot


@dataclass(frozen=True)
class Mismatch:
    grant_id: int
    kind: str               # "differs", "unrecorded" (no entry) or "deleted" (no row)
    field: str = ""         # for "differs": the column that differs,
    recorded: Any = None    # what the audit trail last recorded,
    register: Any = None    # and what the register holds now

    def describe(self) -> str:
        if self.kind == "unrecorded":
            return f"grant {self.grant_id}: in the register, but no audit entry records it"
        if self.kind == "deleted":
            return (f"grant {self.grant_id}: recorded in the audit trail, but no longer in "
                    "the register (deleted)")
        return (f"grant {self.grant_id}, {self.field}: the register holds {self.register!r}, "
                f"the audit trail last recorded {self.recorded!r}")


@dataclass(frozen=True)
class Reconciliation:
    grants: int
    mismatches: list[Mismatch]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def reconcile_grants(session: Session) -> Reconciliation:
    """Replay each grant's recorded states (the 'after' of its entries, in chain order)
    and compare the result with the row: status, creation in and removal from the system,
    activation, review date and how it ended."""
    recorded: dict[int, dict] = {}
    entries = session.execute(select(AuditEntry.object_id, AuditEntry.details)
                              .where(AuditEntry.object_type == "grant")
                              .order_by(AuditEntry.id))
    for object_id, details in entries:
        after = json.loads(details or "{}").get("after")
        if isinstance(after, dict) and object_id.isdecimal():
            recorded.setdefault(int(object_id), {}).update(after)
    mismatches: list[Mismatch] = []
    seen = set()
    for grant in session.scalars(select(Grant).order_by(Grant.id)):
        seen.add(grant.id)
        state = recorded.get(grant.id)
        if state is None:
            mismatches.append(Mismatch(grant.id, "unrecorded"))
            continue
        now = json.loads(canonical_details(snapshot(grant)))
        mismatches.extend(Mismatch(grant.id, "differs", field, state.get(field), value)
                          for field, value in now.items() if state.get(field) != value)
    mismatches.extend(Mismatch(grant_id, "deleted") for grant_id in sorted(set(recorded) - seen))
    return Reconciliation(len(seen), mismatches)
