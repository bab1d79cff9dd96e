"""Grants: created by approval, carried out, activated on acknowledgement, revoked (P3, P5)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, exists, func, or_, select, true, update
from sqlalchemy.orm import Session, aliased, selectinload

from ..domain.rules import (acknowledgement_current, acknowledgement_lapses,
                            acknowledgement_renewal_due, review_due)
from ..models import (AccessRequest, Acknowledgement, Decision, Employee, EmployeeRole, Grant,
                      System, system_user_admins, utcnow)
from ..domain.vocabulary import GrantStatus
from ..models.base import max_length
from . import audit, clock, evaluation, fields, listing, notify, policies, register
from .actor import Actor
from .errors import (Conflict, Forbidden, InvalidInput, NotFound, RuleViolation, refusal_audit,
                     within)

LIVE = ("approved", "active")


def status_filter(value: str | None) -> str | None:
    """A list's ?status= filter on grants (fields.status_filter)."""
    return fields.status_filter(value, GrantStatus, _l(
        "'status' must be approved, active, revoked or expired"))


# What a list of grants shows, loaded in a fixed number of queries whatever its length.
LIST_LOADS = (selectinload(Grant.grantee).selectinload(Employee.centre),
              selectinload(Grant.system),
              selectinload(Grant.request).selectinload(AccessRequest.decisions)
              .selectinload(Decision.approver))

# How an access ended is kept in grants.end_reason, and must fit it.
END_REASON_MAX = max_length(Grant.end_reason)


def snapshot(grant: Grant) -> dict:
    return {"status": grant.status, "fulfilled_at": grant.fulfilled_at,
            "activated_at": grant.activated_at, "review_due": grant.review_due,
            "ended_at": grant.ended_at, "end_reason": grant.end_reason,
            "removed_at": grant.removed_at}


def create_from_request(session: Session, actor: Actor, req: AccessRequest) -> Grant:
    """The approved request becomes a grant awaiting the user administrator."""
    grant = Grant(request=req, grantee=req.grantee, system=req.system,
                  access_level=req.access_level, scope=req.scope, purpose=req.purpose,
                  tasks=req.tasks, frequency=req.frequency,
                  data_categories=list(req.data_categories), status="approved",
                  approved_at=utcnow())
    session.add(grant)
    session.flush()
    audit.record(session, actor=actor.username, action="grant.create", object_type="grant",
                 object_id=grant.id,
                 summary=f"Grant {grant.id} created from request {req.id}: "
                         f"{grant.grantee.username} {grant.access_level}/{grant.scope} on "
                         f"{grant.system.code}, awaiting the user administrator",
                 details={"after": snapshot(grant), "request": req.id},
                 client_address=actor.client_address)
    notify.to_carry_out(session, grant)
    return grant


def get_grant(session: Session, grant_id: int) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(_l("No access with number %(id)s", id=grant_id))
    return grant


def can_view_grant(actor: Actor, grant: Grant) -> bool:
    return (actor.has_role("approver", "dpo", "admin") or actor.employee_id == grant.grantee_id
            or is_user_admin(actor, grant.system))


def is_user_admin(actor: Actor, system: System) -> bool:
    """Listed as the system's user administrator, and given that role in the register:
    taking the role away ends the power too."""
    return actor.has_role("user_admin") and any(admin.id == actor.employee_id
                                                for admin in system.user_admins)


def view_grant(session: Session, actor: Actor, grant_id: int) -> Grant:
    grant = get_grant(session, grant_id)
    if not can_view_grant(actor, grant):
        raise Forbidden(_l("You may only see your own access, or access you decide, carry "
                           "out or audit"))
    return grant


def acknowledged_on(session: Session, employee_id: int) -> date | None:
    latest = session.scalar(select(func.max(Acknowledgement.acknowledged_at))
                            .where(Acknowledgement.employee_id == employee_id))
    return clock.local_date(latest) if latest else None


@dataclass(frozen=True)
class AcknowledgementStatus:
    """Where a person stands with the yearly acknowledgement of the lookup principles (P3)."""

    acknowledged_on: date | None
    current: bool
    renewal_due: bool          # never given, lapsed, or lapsing within the reminder's month
    lapses: date | None        # the first day the last acknowledgement no longer counts
    # The principles in force are not the version last acknowledged (a new principles.yaml
    # since): the acknowledgement still counts for its year, and may be given again now.
    principles_changed: bool = False

    @property
    def lapsed(self) -> bool:
        return self.acknowledged_on is not None and not self.current


def acknowledgements_of(session: Session, employee_id: int) -> list[datetime]:
    """Every time the employee acknowledged the lookup principles (P3), newest first."""
    return list(session.scalars(select(Acknowledgement.acknowledged_at)
                                .where(Acknowledgement.employee_id == employee_id)
                                .order_by(Acknowledgement.acknowledged_at.desc())))


def acknowledgement_status(session: Session, employee_id: int,
                           today: date | None = None) -> AcknowledgementStatus:
    today = today or clock.today()
    given = acknowledged_on(session, employee_id)
    last = session.scalar(select(Acknowledgement.principles_sha256)
                          .where(Acknowledgement.employee_id == employee_id)
                          .order_by(Acknowledgement.acknowledged_at.desc()).limit(1))
    in_force = policies.in_force(session).principles_sha256
    return AcknowledgementStatus(given, acknowledgement_current(given, today),
                                 acknowledgement_renewal_due(given, today),
                                 acknowledgement_lapses(given) if given else None,
                                 principles_changed=bool(last and in_force and last != in_force))


def _activate(session: Session, actor: Actor, grant: Grant, today: date) -> None:
    before = snapshot(grant)
    policy = policies.in_force(session).policies.get(grant.purpose)
    interval = policy.review_interval_for(grant.system.code) if policy else 12
    grant.status = "active"
    grant.activated_at = utcnow()
    grant.review_due = review_due(today, interval)
    session.flush()
    audit.record(session, actor=actor.username, action="grant.activate", object_type="grant",
                 object_id=grant.id,
                 summary=f"Grant {grant.id} is active: carried out and acknowledged; review "
                         f"due {grant.review_due.isoformat()}",
                 details={"before": before, "after": snapshot(grant)},
                 client_address=actor.client_address)


def _other_admins(actor: Actor, grant: Grant) -> list[str]:
    """For a user administrator's own access: the names of the system's other active
    administrators (with the role), who record it instead."""
    if grant.grantee_id != actor.employee_id:
        return []
    return [a.name for a in grant.system.user_admins
            if a.active and a.has_role("user_admin") and a.id != actor.employee_id]


def can_fulfil(actor: Actor, grant: Grant) -> bool:
    return is_user_admin(actor, grant.system) and not _other_admins(actor, grant)


def fulfil(session: Session, actor: Actor, grant_id: int, today: date | None = None) -> Grant:
    """The system's user administrator records the access created (or, if revoked, removed)."""
    today = today or clock.today()
    grant = get_grant(session, grant_id)
    if not is_user_admin(actor, grant.system):
        raise Forbidden(_l("Only the user administrator of %(system)s can record this",
                           system=grant.system.code))
    others = _other_admins(actor, grant)
    if others:
        # Segregation of duties: nobody records their own access as created or removed
        # while another administrator of the system can (a sole administrator must).
        raise Forbidden(_l("Your own access is recorded by another user administrator of "
                           "%(system)s: %(names)s", system=grant.system.code,
                           names=", ".join(others)))
    before = snapshot(grant)
    if grant.status == "approved" and grant.fulfilled_at is None:
        no_longer = evaluation.access_failures_now(session, grant)
        if no_longer:
            # Approved under an earlier version of the policy: the one in force does not
            # allow it, so it is not created; an approver revokes it.
            raise RuleViolation(no_longer, audit=refusal_audit(
                "grant.fulfil_refused", "grant", grant.id,
                f"Record of grant {grant.id} as created in {grant.system.code}", no_longer))
        _claim(session, grant, Grant.fulfilled_at)
        action, summary = "grant.fulfil", (f"Access for grant {grant.id} created in "
                                           f"{grant.system.code}")
    elif grant.status in ("revoked", "expired") and grant.fulfilled_at and not grant.removed_at:
        _claim(session, grant, Grant.removed_at)
        action, summary = "grant.remove", (f"Access for grant {grant.id} removed from "
                                           f"{grant.system.code}")
    else:
        raise Conflict(_l("Access %(id)s has nothing left to record in the system",
                          id=grant.id))
    audit.record(session, actor=actor.username, action=action, object_type="grant",
                 object_id=grant.id, summary=summary,
                 details={"before": before, "after": snapshot(grant)},
                 client_address=actor.client_address)
    if action == "grant.fulfil":
        if acknowledgement_current(acknowledged_on(session, grant.grantee_id), today):
            _activate(session, actor, grant, today)
        else:
            notify.acknowledge(session, grant)
    return grant


def _claim(session: Session, grant: Grant, column) -> None:
    """Set a one-time timestamp only if it is still empty and the status is still the one
    judged: two clicks record it once, and a revocation at the same moment is not undone."""
    landed = session.execute(update(Grant).where(Grant.id == grant.id, column.is_(None),
                                                 Grant.status == grant.status)
                             .values({column.key: utcnow()})
                             .execution_options(synchronize_session=False))
    if landed.rowcount != 1:
        raise Conflict(_l("Access %(id)s was recorded by someone else at the same moment",
                          id=grant.id))
    session.refresh(grant)


def may_acknowledge(session: Session, actor: Actor) -> bool:
    """Everyone who may hold access acknowledges (P3). The DPO, who only reads, does not,
    unless someone has filed access for them that is not ended."""
    if actor.employee_id is None:
        return False
    if not (actor.roles and actor.roles <= {"dpo"}):
        return True
    return session.scalar(select(Grant.id).where(
        Grant.grantee_id == actor.employee_id, Grant.status.in_(LIVE)).limit(1)) is not None


def acknowledge(session: Session, actor: Actor, today: date | None = None) -> Acknowledgement:
    """The caller acknowledges the current lookup principles (P3); waiting grants activate."""
    today = today or clock.today()
    if actor.employee_id is None:
        raise Forbidden(_l("Only an employee can acknowledge the lookup principles"))
    if not may_acknowledge(session, actor):
        raise Forbidden(_l("The DPO reads the register and changes nothing in it, and looks "
                           "no citizen up under these principles: there is nothing to "
                           "acknowledge"))
    principles = policies.in_force(session)
    ack = Acknowledgement(employee_id=actor.employee_id,
                          principles_sha256=principles.principles_sha256)
    session.add(ack)
    session.flush()
    audit.record(session, actor=actor.username, action="acknowledgement.create",
                 object_type="employee", object_id=actor.username,
                 summary=f"{actor.username} acknowledged the lookup principles",
                 details={"principles_sha256": principles.principles_sha256},
                 client_address=actor.client_address)
    waiting = session.scalars(select(Grant).where(
        Grant.grantee_id == actor.employee_id, Grant.status == "approved",
        Grant.fulfilled_at.is_not(None))).all()
    for grant in waiting:
        _activate(session, actor, grant, today)
    return ack


def can_revoke(session: Session, actor: Actor, grant: Grant) -> bool:
    """An administrator, or a named approver of the grant's policy (P4)."""
    if actor.has_role("admin"):
        return True
    policy = policies.in_force(session).policies.get(grant.purpose)
    return (actor.has_role("approver") and policy is not None
            and actor.username in policy.approver_usernames)


def require_revoker(session: Session, actor: Actor, grant_id: int) -> Grant:
    """The grant, if the actor may revoke it; else a 403."""
    grant = get_grant(session, grant_id)
    if not can_revoke(session, actor, grant):
        raise Forbidden(_l("Only a named approver of the access's policy or an administrator "
                           "can revoke it"))
    return grant


def revoke(session: Session, actor: Actor, grant_id: int, reason: str,
           action: str = "grant.revoke") -> Grant:
    """End a live grant with a reason; if it exists in the system, it becomes a removal task."""
    grant = require_revoker(session, actor, grant_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Give a reason for the revocation"), field="reason")
    return end_grant(session, actor, grant, "revoked", within(reason, "reason", END_REASON_MAX),
                     action)


def end_grant(session: Session, actor: Actor, grant: Grant, status: str, reason: str,
              action: str) -> Grant:
    before = snapshot(grant)
    landed = session.execute(update(Grant).where(Grant.id == grant.id,
                                                 Grant.status.in_(LIVE))
                             .values(status=status, ended_at=utcnow(), end_reason=reason,
                                     ended_by_id=actor.employee_id)
                             .execution_options(synchronize_session=False))
    if landed.rowcount != 1:
        raise Conflict(_l("Access %(id)s has already ended", id=grant.id))
    session.refresh(grant)
    audit.record(session, actor=actor.username, action=action, object_type="grant",
                 object_id=grant.id,
                 summary=f"Grant {grant.id} ({grant.grantee.username} on {grant.system.code}) "
                         f"{status}: {reason}",
                 details={"before": before, "after": snapshot(grant)},
                 client_address=actor.client_address)
    if grant.fulfilled_at:
        notify.to_remove(session, grant)
    notify.ended(session, grant)
    return grant


def held_on_values(day: date) -> dict:
    """The values of HELD for a day: held access in the system at some time on the day,
    from the user administrator's record that it was created until the record that it was
    removed."""
    from datetime import datetime, time
    return {"day_start": datetime.combine(day, time.min, tzinfo=clock.MUNICIPAL_TZ),
            "day_end": datetime.combine(day, time.max, tzinfo=clock.MUNICIPAL_TZ)}


# Ended, but still in its system: the user administrator's task to remove it.
AWAITING_REMOVAL = and_(Grant.status.in_(("revoked", "expired")),
                        Grant.fulfilled_at.is_not(None), Grant.removed_at.is_(None))
HELD = and_(Grant.fulfilled_at.is_not(None), Grant.fulfilled_at <= bindparam("day_end"),
            or_(Grant.removed_at.is_(None), Grant.removed_at >= bindparam("day_start")))
# Each filter of the register of grants, with the value it binds (see `listing`).
FILTERS = {
    "system": Grant.system_id == select(System.id).where(
        System.code == bindparam("system")).scalar_subquery(),
    "grantee": Grant.grantee_id == select(Employee.id).where(
        Employee.username == bindparam("grantee")).scalar_subquery(),
    "status": Grant.status == bindparam("status"),
    "as_of": HELD,
}
_OWN_OR_ADMINISTERED = or_(
    Grant.grantee_id == bindparam("me"),
    Grant.system_id.in_(select(system_user_admins.c.system_id).where(
        system_user_admins.c.employee_id == bindparam("me"))))


@lru_cache(maxsize=None)  # one shape per set of filters, seeing all or not
def _visible(filters: tuple[str, ...], sees_all: bool):
    """The grants the actor sees under the filters: approvers, the DPO and admins all;
    others their own and those on the systems they administer."""
    conditions = [FILTERS[name] for name in filters]
    if not sees_all:
        conditions.append(_OWN_OR_ADMINISTERED)
    return and_(true(), *conditions)


@lru_cache(maxsize=None)
def _visible_statements(filters: tuple[str, ...], sees_all: bool,
                        columns: tuple) -> listing.Statements:
    return listing.grant_statements(_visible(filters, sees_all), columns)


def require_point_in_time(actor: Actor) -> None:
    """Who held access on a day is the approvers', the DPO's and the admins' question, on
    the page and in the API alike."""
    if not actor.has_role("approver", "dpo", "admin"):
        raise Forbidden(_l("Only approvers, the DPO and admins see who held access"))


def _visible_for(actor: Actor, system: str | None = None, grantee: str | None = None,
                 status: str | None = None, as_of: date | None = None,
                 session: Session | None = None) -> tuple[tuple[str, ...], bool, dict]:
    if grantee and session is not None:
        grantee = register.as_stored(session, grantee)
    given = {"system": system and system.upper(), "grantee": grantee, "status": status,
             "as_of": as_of}
    values = {name: value for name, value in given.items() if value}
    if as_of:
        require_point_in_time(actor)
        values.update(held_on_values(as_of))
    return (tuple(name for name in FILTERS if name in values),
            actor.has_role("approver", "dpo", "admin"), {**values, "me": actor.employee_id})


def system_filter(session: Session, value: str | None) -> str | None:
    """A list's ?system= filter: the code in capitals, as the register keeps codes ("cvr"
    is CVR), or none; a system the register does not hold is a 400 (check_filters)."""
    code = (value or "").strip().upper() or None
    check_filters(session, code, None)
    return code


def check_filters(session: Session, system: str | None, grantee: str | None) -> None:
    """A filter naming a system or a person the register does not hold is a 400 that
    says so, rather than an empty list that looks like an answer."""
    if system and session.scalar(select(System.id).where(System.code == system)) is None:
        raise InvalidInput(_l("No system with code '%(code)s'", code=system), field="system")
    if grantee and session.scalar(select(Employee.id).where(
            Employee.username == register.as_stored(session, grantee))) is None:
        raise InvalidInput(_l("No employee with username '%(username)s'", username=grantee),
                           field="grantee")


def visible_grants(session: Session, actor: Actor, *, page: int = 1, per_page: int = 50,
                   **filters) -> tuple[list[Grant], int]:
    names, sees_all, values = _visible_for(actor, session=session, **filters)
    total = _visible_statements(names, sees_all, listing.GRANT_LIST_COLUMNS).total(session,
                                                                                 values)
    rows = session.scalars(select(Grant).where(_visible(names, sees_all)).order_by(Grant.id).options(*LIST_LOADS)
                           .limit(per_page).offset((page - 1) * per_page), values).all()
    return list(rows), total


def visible_grant_rows(session: Session, actor: Actor, *, page: int = 1,
                       per_page: int | None = 50,
                       columns: tuple = listing.GRANT_LIST_COLUMNS,
                       **filters) -> tuple[list, int]:
    """The grants as a list page shows them (`columns`, see `listing`), and how many there
    are."""
    names, sees_all, values = _visible_for(actor, session=session, **filters)
    statements = _visible_statements(names, sees_all, columns)
    return statements.rows(session, values, page, per_page), statements.total(session, values)


def approved_by(grant: Grant) -> list[str]:
    """The usernames of the approvers whose approval created the grant."""
    if grant.request is None:
        return []
    return [d.approver.username for d in grant.request.decisions if d.decision == "approve"]


TO_CREATE = and_(Grant.status == "approved", Grant.fulfilled_at.is_(None))


def _administered(actor: Actor):
    """The grants the user administrator records: on their systems, and their own only
    where nobody else administers the system (see `fulfil`)."""
    if not actor.has_role("user_admin"):
        raise Forbidden(_l("Only user administrators create and remove access in the systems"))
    Other = aliased(Employee)
    # Another administrator who can record it: listed, active, and with the role (as
    # `_other_admins` asks).
    someone_else = exists().where(
        system_user_admins.c.system_id == Grant.system_id,
        system_user_admins.c.employee_id == Other.id,
        Other.id != actor.employee_id, Other.status == "active",
        exists().where(EmployeeRole.employee_id == Other.id,
                       EmployeeRole.role == "user_admin"))
    return and_(Grant.system_id.in_(select(system_user_admins.c.system_id).where(
        system_user_admins.c.employee_id == actor.employee_id)),
        or_(Grant.grantee_id != actor.employee_id, ~someone_else))


def tasks_for(session: Session, actor: Actor) -> tuple[list[Grant], list[Grant]]:
    """The user administrator's queues: accesses to create, and accesses to remove."""
    base = select(Grant).where(_administered(actor)).options(
        selectinload(Grant.grantee), selectinload(Grant.system)).order_by(Grant.id)
    to_create = session.scalars(base.where(TO_CREATE)).all()
    to_remove = session.scalars(base.where(AWAITING_REMOVAL)).all()
    return list(to_create), list(to_remove)


def task_counts(session: Session, actor: Actor) -> tuple[int, int]:
    """How many accesses the user administrator has to create, and to remove."""
    mine = _administered(actor)
    return tuple(session.execute(select(
        func.count().filter(TO_CREATE), func.count().filter(AWAITING_REMOVAL)).where(
        mine)).one())
