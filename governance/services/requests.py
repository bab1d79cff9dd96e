"""Requesting access and deciding on requests (P1, P2, P4, P6, P7)."""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, or_, select, true, update
from sqlalchemy.orm import Session, selectinload

from ..domain.policy import Policy
from ..domain.rules import (AWAY_LEFT, AWAY_NO_ROLE, Check, HeldAccess, ProposedRequest,
                            check_decider, check_enough_approvers, deciders, evaluate_request,
                            failures)
from ..domain.vocabulary import AccessLevel, Frequency, RequestStatus, Scope
from ..models import (AccessRequest, AuditEntry, DataCategory, Decision, Employee,
                      EmployeeRole, Grant, NonGrantableArea, System, utcnow)
from . import audit, fields, listing, notify, policies, register
from .actor import Actor
from .errors import (Conflict, Forbidden, InvalidInput, NotFound, RuleViolation, within,
                     refusal_audit)



@dataclass(frozen=True)
class RequestInput:
    grantee: str
    system: str
    access_level: str
    scope: str
    purpose: str
    tasks: str
    frequency: str
    data_categories: tuple[str, ...]
    write_justification: str = ""


def status_filter(value: str | None) -> str | None:
    """A list's ?status= filter on requests (fields.status_filter); empty is none, as the
    page's "all" sends it."""
    return fields.status_filter(value or None, RequestStatus, _l(
        "'status' must be pending, approved, rejected or withdrawn"))


def _text(data: dict, field: str, *, required: bool = True, default: str = "") -> str:
    value = data.get(field, default)
    if value is None:
        value = default
    if not isinstance(value, str):
        raise InvalidInput(_l("'%(field)s' must be text", field=field), field=field)
    value = value.strip()
    if required and not value:
        raise InvalidInput(_l("'%(field)s' is required", field=field), field=field)
    return within(value, field)


def _choice(data: dict, field: str, allowed: type, default: str | None = None) -> str:
    value = _text(data, field, required=default is None, default=default or "")
    options = [member.value for member in allowed]
    if value not in options:
        raise InvalidInput(_l("'%(field)s' must be one of: %(options)s", field=field,
                              options=", ".join(options)), field=field)
    return value


def parse_request_input(data: Any, actor: Actor) -> RequestInput:
    """Shape and vocabulary of a request; the rules judge the content afterwards."""
    if not isinstance(data, dict):
        raise InvalidInput(_l("The body must be a JSON object"))
    allowed = {"grantee", "system", "access_level", "scope", "purpose", "tasks", "frequency",
               "data_categories", "write_justification"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(_l("Unknown field '%(field)s'; expected: %(allowed)s",
                              field=unknown[0], allowed=", ".join(sorted(allowed))),
                           field=unknown[0])
    categories = data.get("data_categories", [])
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise InvalidInput(_l("'data_categories' must be a list of category codes"),
                           field="data_categories")
    parsed = RequestInput(
        grantee=_text(data, "grantee", required=False) or actor.username,
        system=_text(data, "system").upper(),
        access_level=_choice(data, "access_level", AccessLevel, default="read"),
        scope=_choice(data, "scope", Scope, default="summary"),
        purpose=_text(data, "purpose", required=False),
        tasks=_text(data, "tasks", required=False),
        frequency=_choice(data, "frequency", Frequency),
        data_categories=tuple(dict.fromkeys(c.strip() for c in categories if c.strip())),
        write_justification=_text(data, "write_justification", required=False))
    if not parsed.data_categories:
        raise InvalidInput(_l("Name the data categories the tasks need (at least one)"),
                           field="data_categories")
    return parsed


@dataclass
class Evaluation:
    """Everything the request page shows before and after submitting."""

    policy: Policy
    grantee: Employee
    system: System
    checks: list[Check]
    eligible_approvers: list[str]
    approvals_needed: int

    @property
    def passed(self) -> bool:
        return not failures(self.checks)


def _policy(session: Session, purpose: str) -> Policy:
    """The purpose policy named, or the only one in force when none is named."""
    in_force = policies.in_force(session).policies
    if not purpose and len(in_force) == 1:
        return next(iter(in_force.values()))
    policy = in_force.get(purpose)
    if policy is not None:
        return policy
    if not in_force:
        raise InvalidInput(_l("No purpose policy is in force yet: load the policies first "
                              "(flask policy load)"), field="purpose")
    known = ", ".join(sorted(in_force))
    if not purpose:
        raise InvalidInput(_l("Name the purpose policy the need falls under: one of "
                              "%(known)s", known=known), field="purpose")
    raise InvalidInput(_l("Unknown purpose policy '%(purpose)s'; in force: %(known)s",
                          purpose=purpose, known=known), field="purpose")


def held_accesses(session: Session, grantee_id: int,
                  exclude_request: int | None = None) -> list[HeldAccess]:
    """The grantee's live grants and pending requests, for the duplicate check."""
    grants = session.execute(
        select(System.code, Grant.access_level, Grant.scope, Grant.status, Grant.request_id)
        .join(Grant.system).where(Grant.grantee_id == grantee_id,
                                  Grant.status.in_(("approved", "active")))).all()
    pending = session.execute(
        select(System.code, AccessRequest.access_level, AccessRequest.scope,
               AccessRequest.status, AccessRequest.id)
        .join(AccessRequest.system).where(AccessRequest.grantee_id == grantee_id,
                                          AccessRequest.status == "pending",
                                          AccessRequest.id != (exclude_request or 0))).all()
    return [HeldAccess(*row) for row in [*grants, *pending]]


def evaluate(session: Session, actor: Actor, data: RequestInput,
             exclude_request: int | None = None, requester: str | None = None) -> Evaluation:
    """Run every rule on a proposed request (made by `requester`, the actor by default);
    writes nothing."""
    grantee = session.scalar(select(Employee).where(
        Employee.username == register.as_stored(session, data.grantee)))
    if grantee is None:
        raise InvalidInput(_l("No employee with username '%(username)s'",
                              username=data.grantee), field="grantee")
    system = session.scalar(select(System).where(System.code == data.system)
                            .options(selectinload(System.categories), selectinload(System.owner),
                                     selectinload(System.areas)
                                     .selectinload(NonGrantableArea.contact)))
    if system is None:
        raise InvalidInput(_l("No system with code '%(code)s'", code=data.system),
                           field="system")
    held_codes = {c.code for c in system.categories}
    for code in data.data_categories:
        if code not in held_codes and code not in known_categories(session):
            raise InvalidInput(_l("'%(code)s' is not a data category; the categories are: "
                                  "%(known)s", code=code,
                                  known=", ".join(sorted(known_categories(session)))),
                               field="data_categories")
        if code not in held_codes:
            raise InvalidInput(_l("%(system)s does not hold the data category '%(code)s'; "
                                  "it holds: %(held)s", system=system.code, code=code,
                                  held=", ".join(sorted(held_codes))),
                               field="data_categories")
    policy = _current_contacts(_policy(session, data.purpose), system)
    proposed = ProposedRequest(grantee.username, grantee.active, system.code, data.access_level,
                               data.scope, policy.id, data.tasks, data.frequency,
                               data.data_categories, data.write_justification, grantee.name)
    requester = requester or actor.username
    owner = system.owner if system.owner and system.owner.active else None
    away = approvers_away(session, policy)
    checks = [*evaluate_request(proposed, policy,
                                held_accesses(session, grantee.id, exclude_request),
                                {"username": owner.username, "name": owner.name,
                                 "email": owner.email} if owner else None),
              check_enough_approvers(requester, proposed, policy, away)]
    eligible = [a.username for a in deciders(policy, requester, grantee.username, away)]
    return Evaluation(policy, grantee, system, checks, eligible,
                      policy.approvals_needed(data.access_level, data.scope))


def known_categories(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(DataCategory.code)))


def approvers_away(session: Session, policy: Policy) -> dict[str, str]:
    """The policy's named approvers who cannot act now, and why: they have left, or the
    register no longer gives them the approver role. They decide nothing until a new
    version of the policy names someone else, or the role is given back."""
    with_role = select(EmployeeRole.employee_id).where(
        EmployeeRole.employee_id == Employee.id, EmployeeRole.role == "approver").exists()
    rows = session.execute(select(Employee.username, Employee.status, with_role).where(
        Employee.username.in_(policy.approver_usernames)))
    return {username: AWAY_LEFT if status != "active" else AWAY_NO_ROLE
            for username, status, has_role in rows if status != "active" or not has_role}


def _current_contacts(policy: Policy, system: System) -> Policy:
    """The policy with the system's non-grantable areas as the register has them now: a
    version in force keeps the contact person named when it was loaded, and the seed may
    have named another since. A contact who has left is replaced by the system's owner,
    or by nobody (P6)."""
    registered = {area.key: area for area in system.areas}
    owner = system.owner if system.owner and system.owner.active else None
    areas = []
    for area in policy.non_grantable:
        now = registered.get(area.key) if area.system == system.code else None
        if now is not None:
            person = now.contact if now.contact.active else owner
            area = replace(area, contact=person.username if person else "",
                           contact_name=person.name if person else "",
                           contact_email=person.email if person else "")
        areas.append(area)
    return replace(policy, non_grantable=tuple(areas))


def require_requester(actor: Actor) -> None:
    if not actor.has_role("requester"):
        raise Forbidden(_l("Only employees with the requester role can request access"))


def request_access(session: Session, actor: Actor, data: RequestInput) -> tuple[AccessRequest,
                                                                                 Evaluation]:
    """File a request that passes every rule; a refusal raises and writes nothing."""
    require_requester(actor)
    result = evaluate(session, actor, data)
    if not result.passed:
        raise RuleViolation(result.checks, audit=refusal_entry(
            replace(data, grantee=result.grantee.username, system=result.system.code),
            result.checks))
    requester = session.get(Employee, actor.employee_id)
    req = AccessRequest(
        requester=requester, grantee=result.grantee, system=result.system,
        access_level=data.access_level, scope=data.scope, purpose=result.policy.id,
        tasks=data.tasks, frequency=data.frequency, data_categories=list(data.data_categories),
        write_justification=data.write_justification,
        approvals_needed=result.approvals_needed)
    session.add(req)
    session.flush()
    audit.record(session, actor=actor.username, action="request.create",
                 object_type="request", object_id=req.id,
                 summary=f"{actor.username} requested {data.access_level}/{data.scope} access "
                         f"to {result.system.code} for {result.grantee.username}",
                 details={"after": request_snapshot(req),
                          "checks": [c.code for c in result.checks]},
                 client_address=actor.client_address)
    notify.new_request(session, req, result.eligible_approvers)
    return req, result


def refusal_entry(data: RequestInput, checks: list[Check]) -> dict:
    """Evidence that a request was refused, and by which principles (no request row)."""
    refused = failures(checks)
    return {"action": "request.refused", "object_type": "request", "object_id": "-",
            "summary": f"Request for {data.grantee} to {data.system} refused: "
                       f"{', '.join(c.code for c in refused)}",
            "details": {"input": data.__dict__ | {"data_categories": list(data.data_categories)},
                        "violations": [{"code": c.code, "principle": c.principle}
                                       for c in refused]}}


def request_snapshot(req: AccessRequest) -> dict:
    return {"id": req.id, "requester": req.requester.username, "grantee": req.grantee.username,
            "system": req.system.code, "access_level": req.access_level, "scope": req.scope,
            "purpose": req.purpose, "tasks": req.tasks, "frequency": req.frequency,
            "data_categories": list(req.data_categories),
            "write_justification": req.write_justification, "status": req.status,
            "approvals_needed": req.approvals_needed}


def get_request(session: Session, actor: Actor, request_id: int) -> AccessRequest:
    req = session.get(AccessRequest, request_id)
    if req is None:
        raise NotFound(_l("No request with number %(id)s", id=request_id))
    if not can_view_request(actor, req):
        raise Forbidden(_l("You may only see requests you made, that concern you, or that "
                           "you decide, carry out or audit"))
    return req


def can_view_request(actor: Actor, req: AccessRequest) -> bool:
    if actor.has_role("approver", "dpo", "admin"):
        return True
    if actor.employee_id in (req.requester_id, req.grantee_id):
        return True
    return actor.has_role("user_admin") and any(
        admin.id == actor.employee_id for admin in req.system.user_admins)


_ME = bindparam("me")  # the person asking (see `listing` for why values are bound)


@lru_cache(maxsize=None)  # four shapes: everything or one's own, with or without a status
def _visible(sees_all: bool, by_status: bool):
    """Which requests the actor sees: approvers, the DPO and admins all; others their own."""
    where = true() if sees_all else or_(AccessRequest.requester_id == _ME,
                                        AccessRequest.grantee_id == _ME)
    if by_status:
        where = and_(where, AccessRequest.status == bindparam("status"))
    return where


def _visible_for(actor: Actor, status: str | None) -> tuple[tuple[bool, bool], dict]:
    """The shape of what the actor sees (for `_visible`), and the values it binds."""
    return ((actor.has_role("approver", "dpo", "admin"), bool(status)),
            {"me": actor.employee_id, "status": status})


@lru_cache(maxsize=None)
def _visible_statements(sees_all: bool, by_status: bool) -> listing.Statements:
    return listing.request_statements(_visible(sees_all, by_status),
                                      order_by=(AccessRequest.id.desc(),))


def visible_requests(session: Session, actor: Actor, *, status: str | None = None,
                     page: int = 1, per_page: int = 50) -> tuple[list[AccessRequest], int]:
    shape, values = _visible_for(actor, status)
    rows = session.scalars(select(AccessRequest).where(_visible(*shape))
                           .order_by(AccessRequest.id.desc())
                           .options(selectinload(AccessRequest.requester),
                                    selectinload(AccessRequest.grantee),
                                    selectinload(AccessRequest.system),
                                    selectinload(AccessRequest.decisions))
                           .limit(per_page).offset((page - 1) * per_page), values).all()
    return list(rows), _visible_statements(*shape).total(session, values)


def visible_request_rows(session: Session, actor: Actor, *, status: str | None = None,
                         page: int = 1, per_page: int = 50) -> tuple[list, int]:
    """The request list as the page shows it (see `listing`), newest first, and its length."""
    shape, values = _visible_for(actor, status)
    statements = _visible_statements(*shape)
    return statements.rows(session, values, page, per_page), statements.total(session, values)


# Pending requests the person may still decide: under a policy naming them (:purposes),
# not their own, and not already approved by them.
PENDING = and_(
    AccessRequest.status == "pending",
    AccessRequest.purpose.in_(bindparam("purposes", expanding=True)),
    AccessRequest.requester_id != _ME, AccessRequest.grantee_id != _ME,
    ~select(Decision.id).where(Decision.request_id == AccessRequest.id,
                               Decision.approver_id == _ME).exists())
_PENDING = listing.request_statements(PENDING, listing.QUEUE_COLUMNS)
_CAN_DECIDE = select(func.count()).select_from(AccessRequest).where(
    PENDING, AccessRequest.id == bindparam("request_id"))


def pending_values(session: Session, actor: Actor) -> dict:
    """The values PENDING needs for this person."""
    return {"me": actor.employee_id,
            "purposes": [pid for pid, policy in policies.in_force(session).policies.items()
                         if actor.username in policy.approver_usernames]}


def pending_for(session: Session, actor: Actor, *, page: int = 1,
                per_page: int = 100) -> tuple[list, int]:
    """The approver's queue as the page shows it (see `listing`), oldest first, one page at
    a time, and its length."""
    values = pending_values(session, actor)
    return _PENDING.rows(session, values, page, per_page), _PENDING.total(session, values)


def waiting(session: Session, actor: Actor) -> tuple[int, int]:
    """For the person's overview: how many requests wait for their decision (an approver's
    queue), and how many of their own (made by or for them) are still pending."""
    to_decide = (_PENDING.total(session, pending_values(session, actor))
                 if actor.has_role("approver") else 0)
    own = session.scalar(select(func.count(AccessRequest.id)).where(
        AccessRequest.status == "pending",
        or_(AccessRequest.requester_id == actor.employee_id,
            AccessRequest.grantee_id == actor.employee_id)))
    return to_decide, own or 0


def can_decide(session: Session, actor: Actor, req: AccessRequest) -> bool:
    return session.scalar(_CAN_DECIDE, {**pending_values(session, actor),
                                        "request_id": req.id}) == 1


@dataclass(frozen=True)
class Withdrawal:
    """Who withdrew a request and when, from its audit entry; `left`: because the
    grantee left."""

    by: str
    at: datetime
    left: bool


def awaited_from(session: Session, req: AccessRequest) -> list[str]:
    """For a pending request: the names of the named approvers who may still give the
    approvals it lacks (neither requester nor grantee, not left, not already approved)."""
    if req.status != "pending":
        return []
    policy = policies.in_force(session).policies.get(req.purpose)
    if policy is None:
        return []
    decided = {d.approver.username for d in req.decisions}
    return [a.name for a in deciders(policy, req.requester.username, req.grantee.username,
                                     approvers_away(session, policy))
            if a.username not in decided]


def withdrawal(session: Session, req: AccessRequest) -> Withdrawal | None:
    entry = session.scalar(select(AuditEntry).where(
        AuditEntry.action == "request.withdraw", AuditEntry.object_type == "request",
        AuditEntry.object_id == str(req.id)).order_by(AuditEntry.id.desc()).limit(1))
    if entry is None:
        return None
    details = json.loads(entry.details or "{}")
    return Withdrawal(entry.actor, entry.created_at, details.get("reason") == "left")


def current_checks(session: Session, actor: Actor, req: AccessRequest) -> list[Check]:
    """The rules as they judge the request now (the grantee may have left meanwhile)."""
    data = RequestInput(req.grantee.username, req.system.code, req.access_level, req.scope,
                        req.purpose, req.tasks, req.frequency, tuple(req.data_categories),
                        req.write_justification)
    return evaluate(session, actor, data, exclude_request=req.id,
                    requester=req.requester.username).checks


def decide(session: Session, actor: Actor, request_id: int, decision: str,
           comment: str) -> AccessRequest:
    """A named approver approves or rejects; the decision lands only on the version seen."""
    req = session.get(AccessRequest, request_id)
    if req is None:
        raise NotFound(_l("No request with number %(id)s", id=request_id))
    if decision not in ("approve", "reject"):
        raise InvalidInput(_l("'decision' must be 'approve' or 'reject'"), field="decision")
    comment = within((comment or "").strip(), "comment")
    if decision == "reject" and not comment:
        raise InvalidInput(_l("A rejection needs a comment that tells the requester why"),
                           field="comment")
    policy = _policy(session, req.purpose)
    refused = failures(check_decider(actor.username, req.requester.username,
                                     req.grantee.username, policy,
                                     approver_role=actor.has_role("approver")))
    if refused:
        raise DecisionRefused(actor, refused, audit=refusal_audit(
            "request.decision_refused", "request", req.id,
            f"{actor.username}'s {decision} of request {req.id}", refused, decision=decision))
    if req.status == "withdrawn":
        raise Conflict(_l("Request %(id)s has been withdrawn; there is nothing to decide",
                          id=req.id))
    if req.status != "pending":
        raise Conflict(_l("Request %(id)s has already been decided", id=req.id))
    if any(d.approver_id == actor.employee_id for d in req.decisions):
        raise Conflict(_l("You have already approved request %(id)s; it waits for the "
                          "other approver", id=req.id))
    if decision == "approve":
        blocking = failures(current_checks(session, actor, req))
        if blocking:
            raise RuleViolation(blocking, audit=refusal_audit(
                "request.approve_refused", "request", req.id,
                f"Approval of request {req.id}", blocking))
    approvals = sum(1 for d in req.decisions if d.decision == "approve") + (
        decision == "approve")
    final = decision == "reject" or approvals >= req.approvals_needed
    new_status = ("rejected" if decision == "reject" else "approved") if final else "pending"
    seen_version = req.version
    now = utcnow()
    landed = session.execute(
        update(AccessRequest)
        .where(AccessRequest.id == req.id, AccessRequest.status == "pending",
               AccessRequest.version == seen_version)
        .values(status=new_status, version=seen_version + 1,
                decided_at=now if final else None)
        .execution_options(synchronize_session=False))
    if landed.rowcount != 1:
        raise Conflict(_l("Request %(id)s was decided by someone else at the same moment; "
                          "reload it", id=req.id))
    session.expire(req, ["status", "version", "decided_at"])
    approver = session.get(Employee, actor.employee_id)
    session.add(Decision(request=req, approver=approver, decision=decision, comment=comment,
                         decided_at=now))
    session.flush()
    audit.record(session, actor=actor.username, action=f"request.{decision}",
                 object_type="request", object_id=req.id,
                 summary=f"{actor.username} {'approved' if decision == 'approve' else 'rejected'}"
                         f" request {req.id}" + ("" if final else
                                                 f" ({approvals} of {req.approvals_needed})"),
                 details={"before": {"status": "pending"}, "after": {"status": new_status},
                          "comment": comment}, client_address=actor.client_address)
    if new_status == "approved":
        from .grants import create_from_request
        create_from_request(session, actor, req)
    if final:
        notify.decided(session, req)
    return req


class DecisionRefused(RuleViolation):
    """The decider may not decide this request or review this access (P4), with the failed
    checks. Someone without the approver role lacks the permission to decide at all: 403.
    An approver refused by the principle (their own request or access, or not named in
    this policy) is refused by a rule: 422, as the other rule refusals."""

    code = "decision_refused"

    def __init__(self, actor: Actor, checks: list[Check], audit: dict | None = None):
        super().__init__(checks, audit=audit)
        self.status = 422 if actor.has_role("approver") else 403


def withdraw(session: Session, actor: Actor, request_id: int) -> AccessRequest:
    """The requester (or grantee) takes back a pending request."""
    req = session.get(AccessRequest, request_id)
    if req is None:
        raise NotFound(_l("No request with number %(id)s", id=request_id))
    if actor.employee_id not in (req.requester_id, req.grantee_id):
        raise Forbidden(_l("Only the requester or the grantee can withdraw a request"))
    landed = session.execute(update(AccessRequest).where(
        AccessRequest.id == req.id, AccessRequest.status == "pending").values(
        status="withdrawn", version=AccessRequest.version + 1, decided_at=utcnow())
        .execution_options(synchronize_session=False))
    if landed.rowcount != 1:
        raise Conflict(_l("Request %(id)s is no longer pending", id=req.id))
    session.expire(req)
    audit.record(session, actor=actor.username, action="request.withdraw",
                 object_type="request", object_id=req.id,
                 summary=f"{actor.username} withdrew request {req.id}",
                 details={"before": {"status": "pending"}, "after": {"status": "withdrawn"}},
                 client_address=actor.client_address)
    return req
