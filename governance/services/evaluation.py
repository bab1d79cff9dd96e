"""Re-evaluating every active grant against the policy in force: the DPO's findings."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session, selectinload

from ..domain.rules import Check, GrantEvaluator
from ..models import Acknowledgement, Employee, Grant, System
from . import clock, policies


@dataclass(frozen=True)
class Finding:
    grant_id: int
    check: Check


def _plain_rows(session: Session, statement) -> list[tuple]:
    """The rows of a Core select as the driver gives them: plain tuples, no per-row work by
    SQLAlchemy. Dates stay as the driver returns them (text on SQLite)."""
    connection = session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(str(compiled), compiled.positiontup and
                       [compiled.params[name] for name in compiled.positiontup]
                       or compiled.params)
        return cursor.fetchall()
    finally:
        cursor.close()


# Every grant, with its status to keep the active ones here: most grants are active, and
# reading the table straight through is twice as fast on SQLite as going through the
# status index, which SQLite (without statistics) would pick for a WHERE on the status.
_GRANTS = select(Grant.status, Grant.id, Grant.purpose, Grant.grantee_id, Grant.system_id,
                 Grant.access_level, Grant.scope, cast(Grant.data_categories, Text),
                 Grant.review_due, Grant.fulfilled_at.is_not(None))


def _last_acknowledged(as_of: date):
    """Each employee's latest acknowledgement by the end of `as_of` (one given later did not
    count on that day); columns, so read on the connection without the ORM's loading layer
    (a tenth of the whole run when read through the session)."""
    return (select(Acknowledgement.employee_id, func.max(Acknowledgement.acknowledged_at))
            .where(Acknowledgement.acknowledged_at < clock.day_end(as_of))
            .group_by(Acknowledgement.employee_id))


def reevaluate(session: Session, as_of: date | None = None) -> tuple[int, list[Finding]]:
    """All active grants and their failed checks, in five queries whatever the size; with
    them the grants created in their system and waiting for the grantee's acknowledgement,
    which are held there all the same (the count is of the active ones)."""
    as_of = as_of or clock.today()
    in_force = policies.in_force(session).policies
    acknowledged = dict(session.connection().execute(_last_acknowledged(as_of)).all())
    people = {row.id: (row.username, row.name, row.status == "active")
              for row in session.connection().execute(
                  select(Employee.id, Employee.username, Employee.name, Employee.status))}
    codes = dict(session.connection().execute(select(System.id, System.code)).all())
    # Driver rows, no joins: tens of thousands of plain tuples.
    rows = _plain_rows(session, _GRANTS)
    evaluators = {purpose: GrantEvaluator(policy, as_of) for purpose, policy in in_force.items()}
    # Any evaluator answers for the grantee and the due date: those checks depend on the
    # day only, not on the policy.
    dated = GrantEvaluator(next(iter(in_force.values())), as_of) if in_force else None
    findings: list[Finding] = []
    # Tens of thousands of grants share a few thousand accesses (policy, system, level,
    # scope, categories), five thousand grantees and a few thousand due dates: what fails
    # is worked out once for each, keyed by the values as read.
    access_of: dict[tuple, tuple[Check, ...] | None] = {}
    person_of: dict[int, tuple[Check, ...]] = {}
    due_of: dict = {}
    active_grants = 0
    for (status, grant_id, purpose, grantee_id, system_id, level, scope, categories, due,
         created) in rows:
        if status != "active" and not (status == "approved" and created):
            continue
        active_grants += status == "active"
        key = (purpose, system_id, level, scope, categories)
        access = access_of.get(key, key)
        if access is key:
            evaluator = evaluators.get(purpose)
            access = access_of[key] = None if evaluator is None else evaluator.access_failures(
                codes[system_id], level, scope, tuple(json.loads(categories or "[]")))
        if access is None:
            continue  # under no policy in force: nothing to judge it by
        person = person_of.get(grantee_id)
        if person is None:
            username, name, active = people[grantee_id]
            person = person_of[grantee_id] = dated.person_failures(
                username, active, clock.local_date(acknowledged.get(grantee_id)), name)
        overdue = due_of.get(due)
        if overdue is None:
            overdue = due_of[due] = dated.due_failures(
                due if due is None or isinstance(due, date) else date.fromisoformat(due))
        if access or person or overdue:
            findings.extend(Finding(grant_id, check) for check in access + person + overdue)
    return active_grants, findings


def findings_for(session: Session, grant: Grant, as_of: date | None = None) -> list[Check]:
    """What a live grant fails now, as the re-evaluation finds it (P1, P3 to P7). A held one
    (active, or created in its system and waiting for the grantee's acknowledgement) is
    judged whole; one approved and not yet created only as an access, so the user
    administrator and the approvers see that the policy in force no longer allows it.
    Nothing for ended grants, or under no policy in force."""
    held = grant.status == "active" or grant.awaits_acknowledgement
    if not (held or grant.status == "approved"):
        return []
    policy = policies.in_force(session).policies.get(grant.purpose)
    if policy is None:
        return []
    as_of = as_of or clock.today()
    evaluator = GrantEvaluator(policy, as_of)
    access = list(evaluator.access_failures(grant.system.code, grant.access_level,
                                            grant.scope, tuple(grant.data_categories or ())))
    if not held:
        return access
    acknowledged = session.scalar(select(func.max(Acknowledgement.acknowledged_at)).where(
        Acknowledgement.employee_id == grant.grantee_id,
        Acknowledgement.acknowledged_at < clock.day_end(as_of)))
    return [*access,
            *evaluator.person_failures(grant.grantee.username, grant.grantee.active,
                                       clock.local_date(acknowledged), grant.grantee.name),
            *evaluator.due_failures(grant.review_due)]


def disallowed(session: Session, grants: list[Grant]) -> dict[int, list[Check]]:
    """Of these grants, the ones whose access the policy in force no longer allows, with
    what fails (P4, P6, P7): one look at the policies in force for all of them."""
    in_force = policies.in_force(session).policies
    evaluators: dict[str, GrantEvaluator] = {}
    found = {}
    for grant in grants:
        policy = in_force.get(grant.purpose)
        if policy is None:
            continue
        evaluator = evaluators.setdefault(grant.purpose, GrantEvaluator(policy, clock.today()))
        failing = evaluator.access_failures(grant.system.code, grant.access_level, grant.scope,
                                            tuple(grant.data_categories or ()))
        if failing:
            found[grant.id] = list(failing)
    return found


def access_failures_now(session: Session, grant: Grant) -> list[Check]:
    """What the access itself fails under the policy in force now (P4, P6, P7), whoever
    holds it: approved under an earlier version, it may no longer be allowed."""
    return disallowed(session, [grant]).get(grant.id, [])


def not_allowed_now(session: Session) -> Counter:
    """The live grants (approved or active) whose access the policies in force do not allow
    (P4, P6, P7), counted by status: what a new version of a policy has left behind."""
    live = session.scalars(select(Grant).where(Grant.status.in_(("approved", "active")))
                           .options(selectinload(Grant.system))).all()
    found = disallowed(session, live)
    return Counter(grant.status for grant in live if grant.id in found)
