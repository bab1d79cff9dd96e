"""Re-evaluating every active grant against the policy in force: the DPO's findings."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from ..domain.rules import Check, ExistingGrant, GrantEvaluator
from ..models import Acknowledgement, Employee, Grant, System
from . import clock, policies


@dataclass(frozen=True)
class Finding:
    grant_id: int
    check: Check


def reevaluate(session: Session, as_of: date | None = None) -> tuple[int, list[Finding]]:
    """All active grants and their failed checks, in five queries whatever the size."""
    as_of = as_of or clock.today()
    in_force = policies.in_force(session).policies
    acknowledged = dict(session.execute(
        select(Acknowledgement.employee_id, func.max(Acknowledgement.acknowledged_at))
        .group_by(Acknowledgement.employee_id)).all())
    people = {row.id: (row.username, row.status == "active") for row in session.connection()
              .execute(select(Employee.id, Employee.username, Employee.status))}
    codes = dict(session.connection().execute(select(System.id, System.code)).all())
    # Core rows, not ORM ones, and no joins: tens of thousands of plain tuples.
    rows = session.connection().execute(
        select(Grant.id, Grant.purpose, Grant.grantee_id, Grant.system_id, Grant.access_level,
               Grant.scope, cast(Grant.data_categories, Text), Grant.review_due)
        .where(Grant.status == "active")).all()
    evaluators: dict[str, GrantEvaluator] = {}
    findings: list[Finding] = []
    # The same few category lists recur across thousands of grants: parse each text once.
    categories_of: dict[str, tuple[str, ...]] = {}
    acknowledged_on = {employee: clock.local_date(moment)
                       for employee, moment in acknowledged.items()}
    for grant_id, purpose, grantee_id, system_id, level, scope, categories, due in rows:
        policy = in_force.get(purpose)
        if policy is None:
            continue
        evaluator = evaluators.get(purpose)
        if evaluator is None:
            evaluator = evaluators[purpose] = GrantEvaluator(policy, as_of)
        parsed = categories_of.get(categories)
        if parsed is None:
            parsed = categories_of[categories] = tuple(json.loads(categories or "[]"))
        username, active = people[grantee_id]
        grant = ExistingGrant(username, active, codes[system_id], level, scope, parsed, due,
                              acknowledged_on.get(grantee_id))
        findings.extend(Finding(grant_id, check) for check in evaluator.findings(grant))
    return len(rows), findings
