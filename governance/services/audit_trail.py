"""Reading the audit trail with filters: for the DPO and the administrator."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from ..domain.rules import RULE_PRINCIPLES
from ..models import AuditEntry
from . import clock
from .actor import Actor
from .clock import MUNICIPAL_TZ
from .register import stored_username
from .errors import Forbidden, InvalidInput
from .permissions import can_read_audit
from .reports import DECISION_REFUSAL_ACTIONS


PRINCIPLES = tuple(f"P{n}" for n in range(1, 8))


@dataclass(frozen=True)
class AuditFilters:
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: date | None = None
    until: date | None = None
    principle: str | None = None  # P1..P7: entries whose checks name that principle


def _date(args: Mapping, key: str) -> date | None:
    value = (args.get(key) or "").strip()
    return clock.parse_date(value, key) if value else None


def parse_filters(args: Mapping) -> AuditFilters:
    text = {key: (args.get(key) or "").strip()[:64] or None
            for key in ("actor", "action", "object_type", "object_id")}
    principle = (args.get("principle") or "").strip().upper() or None
    if principle is not None and principle not in PRINCIPLES:
        raise InvalidInput(_l("'principle' must be one of %(allowed)s",
                              allowed=", ".join(PRINCIPLES)), field="principle")
    since, until = _date(args, "from"), _date(args, "to")
    if since and until and since > until:
        raise InvalidInput(_l("The period must start before it ends"), field="from")
    return AuditFilters(**text, since=since, until=until, principle=principle)


# Every kind of entry the register writes, with the words the audit page offers for it.
# The filter matches the start of the code, so "request" finds every request entry.
ACTIONS = {
    "request": _l("Requests (all)"),
    "request.create": _l("Request filed"),
    "request.refused": _l("Request refused by the rules"),
    "request.approve": _l("Request approved"),
    "request.reject": _l("Request rejected"),
    "request.withdraw": _l("Request withdrawn"),
    "request.decision_refused": _l("Decision refused"),
    "request.approve_refused": _l("Second approval refused"),
    "grant": _l("Access (all)"),
    "grant.create": _l("Access approved, to be created"),
    "grant.fulfil": _l("Access created in the system"),
    "grant.fulfil_refused": _l("Creation refused: the policy in force does not allow it"),
    "grant.activate": _l("Access active"),
    "grant.review_keep": _l("Review: kept"),
    "grant.review_revoke": _l("Review: revoked"),
    "grant.review_refused": _l("Review refused"),
    "grant.revoke": _l("Access revoked"),
    "grant.expire": _l("Access expired, not re-assessed"),
    "grant.remove": _l("Access removed from the system"),
    "acknowledgement.create": _l("Lookup principles acknowledged"),
    "centre": _l("Centres (all)"),
    "centre.create": _l("Centre created"),
    "centre.update": _l("Centre changed"),
    "employee": _l("Employees (all)"),
    "employee.create": _l("Employee created"),
    "employee.update": _l("Employee changed"),
    "employee.left": _l("Employee left"),
    "reviews.remind": _l("Reminders queued: reviews and acknowledgements"),
    "policy.load": _l("Policy version recorded"),
    "policy.retire": _l("Policy taken out of force"),
    "seed": _l("Seed (all)"),
    "seed.create": _l("Created from the seed"),
    "seed.update": _l("Changed by the seed"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "user.password_set": _l("Password set"),
    "auth": _l("Log-ins and log-outs (all)"),
    "auth.login": _l("Log-in"),
    "auth.logout": _l("Log-out"),
    "auth.login_failed": _l("Failed log-in"),
    "auth.login_throttled": _l("Log-in refused after too many attempts"),
    "access.denied": _l("Access to a page or action refused"),
}


# What an entry is about, as the interface names it (the stored type stays beside it).
OBJECT_TYPES = {
    "api_token": _l("API token"), "category": _l("data category"), "centre": _l("centre"),
    "employee": _l("employee"), "grant": _l("access"), "policy": _l("policy"),
    "request": _l("request"), "reviews": _l("reviews"), "system": _l("system"),
}


def require_reader(actor: Actor) -> None:
    if not can_read_audit(actor):
        raise Forbidden(_l("Only the DPO and administrators may read the audit trail"))


def conditions(session: Session, filters: AuditFilters) -> list:
    """The filters as conditions on audit_entries: for the page and for its download."""
    where = []
    if filters.actor:
        # Initials in any case find the person, and the entries' index still serves.
        stored = stored_username(session, filters.actor)
        where.append(AuditEntry.actor == (stored or filters.actor))
    if filters.action:
        where.append(AuditEntry.action.startswith(filters.action, autoescape=True))
    if filters.object_type:
        where.append(AuditEntry.object_type == filters.object_type)
    if filters.object_id:
        where.append(AuditEntry.object_id == filters.object_id)
    if filters.principle:
        # The details are canonical JSON written by the audit service (see dashboard). A
        # refused request names each violation's principle; a refused decision or review
        # names only the codes, each of which belongs to one principle.
        codes = [code for code, principle in RULE_PRINCIPLES.items()
                 if principle == filters.principle]
        where.append(or_(
            AuditEntry.details.contains(f'"principle":"{filters.principle}"'),
            and_(AuditEntry.action.in_(DECISION_REFUSAL_ACTIONS),
                 or_(false(), *(AuditEntry.details.contains(f'"{code}"') for code in codes)))))
    if filters.since:
        where.append(AuditEntry.created_at >= datetime.combine(
            filters.since, time.min, tzinfo=MUNICIPAL_TZ))
    if filters.until:
        where.append(AuditEntry.created_at < datetime.combine(
            filters.until + timedelta(days=1), time.min, tzinfo=MUNICIPAL_TZ))
    return where


def search(session: Session, actor: Actor, filters: AuditFilters, *, page: int = 1,
           per_page: int = 50) -> tuple[list[AuditEntry], int]:
    require_reader(actor)
    query = select(AuditEntry).where(*conditions(session, filters))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(AuditEntry.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total
