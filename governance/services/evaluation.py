"""Re-evaluating every active grant against the policy in force: the DPO's findings."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.rules import Check, ExistingGrant, GrantEvaluator
from ..models import Acknowledgement, Employee, Grant, System
from . import clock, policies


@dataclass(frozen=True)
class Finding:
    grant_id: int
    check: Check


def reevaluate(session: Session, as_of: date | None = None) -> tuple[int, list[Finding]]:
    """All active grants and their failed checks, in three queries whatever the size."""
    as_of = as_of or clock.today()
    in_force = policies.in_force(session).policies
    acknowledged = dict(session.execute(
        select(Acknowledgement.employee_id, func.max(Acknowledgement.acknowledged_at))
        .group_by(Acknowledgement.employee_id)).all())
    rows = session.execute(
        select(Grant.id, Grant.purpose, Grant.grantee_id, Employee.username, Employee.status,
               System.code, Grant.access_level, Grant.scope, Grant.data_categories,
               Grant.review_due)
        .join(Employee, Employee.id == Grant.grantee_id).join(System, System.id == Grant.system_id)
        .where(Grant.status == "active")).all()
    evaluators: dict[str, GrantEvaluator] = {}
    findings: list[Finding] = []
    for (grant_id, purpose, grantee_id, username, status, code, level, scope, categories,
         due) in rows:
        policy = in_force.get(purpose)
        if policy is None:
            continue
        evaluator = evaluators.get(purpose)
        if evaluator is None:
            evaluator = evaluators[purpose] = GrantEvaluator(policy, as_of)
        grant = ExistingGrant(username, status == "active", code, level, scope,
                              tuple(categories), due,
                              clock.local_date(acknowledged.get(grantee_id)))
        findings.extend(Finding(grant_id, check) for check in evaluator.findings(grant))
    return len(rows), findings
