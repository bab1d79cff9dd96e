"""The DPO's dashboard: each figure is the count of a named list, so they always agree."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from ..domain.rules import RULE_PRINCIPLES, add_months, earliest_current_acknowledgement
from ..models import AccessRequest, Acknowledgement, AuditEntry, Employee, Grant, System
from . import clock, evaluation, listing, register
from .grants import AWAITING_REMOVAL
from .actor import Actor
from .errors import Forbidden, InvalidInput


# The values a figure depends on, bound when the statement runs (see `listing`): the day
# the figures are for, thirty days later, and the oldest acknowledgement still current.
DAY, DAY_30 = bindparam("day"), bindparam("day_30")
ACK_SINCE, ACK_UNTIL = bindparam("ack_since"), bindparam("ack_until")


def day_values(as_of: date) -> dict:
    """The values of DAY, DAY_30, ACK_SINCE and ACK_UNTIL for a day."""
    since = datetime.combine(earliest_current_acknowledgement(as_of), time.min,
                             tzinfo=clock.MUNICIPAL_TZ)
    return {"day": as_of, "day_30": as_of + timedelta(days=30), "ack_since": since,
            "ack_until": clock.day_end(as_of)}


def _unacknowledged():
    """Grantees of live grants without an acknowledgement from the twelve months up to the
    day (one given after it did not count then). The set of those who have one is found
    once (not per grant)."""
    current = exists().where(Acknowledgement.employee_id == Employee.id,
                             Acknowledgement.acknowledged_at >= ACK_SINCE,
                             Acknowledgement.acknowledged_at < ACK_UNTIL)
    lacking = select(Employee.id).where(~current)
    return and_(Grant.status.in_(("approved", "active")), Grant.grantee_id.in_(lacking))


def _left():
    return Grant.grantee_id.in_(select(Employee.id).where(Employee.status == "left"))


# name -> (label, condition on Grant, with DAY, DAY_30, ACK_SINCE and ACK_UNTIL to bind)
GRANT_LISTS: dict[str, tuple] = {
    "active": (_l("Active access"), Grant.status == "active"),
    "to_create": (_l("Approved, not yet created in the system"),
                  and_(Grant.status == "approved", Grant.fulfilled_at.is_(None))),
    "to_remove": (_l("Ended, not yet removed from the system"), AWAITING_REMOVAL),
    "overdue": (_l("Reviews overdue"), and_(Grant.status == "active", Grant.review_due < DAY)),
    "due_30": (_l("Reviews due in the next 30 days"),
               and_(Grant.status == "active", Grant.review_due >= DAY,
                    Grant.review_due <= DAY_30)),
    "write_or_detail": (_l("Write access or case detail"),
                        and_(Grant.status == "active",
                             or_(Grant.access_level == "write", Grant.scope == "detail"))),
    "leavers": (_l("Access of leavers not yet removed from the system"),
                and_(_left(), Grant.fulfilled_at.is_not(None), Grant.removed_at.is_(None))),
    "unacknowledged": (_l("Access of employees without a current acknowledgement"),
                       _unacknowledged()),
}

# The lists of ended access still in a system: they show when it ended.
ENDED_LISTS = ("to_remove", "leavers")

_IN_SYSTEM = Grant.system_id == select(System.id).where(
    System.code == bindparam("system")).scalar_subquery()


@lru_cache(maxsize=None)  # one entry per list, and per list within one system
def _list_statements(name: str, in_system: bool) -> listing.Statements:
    condition = GRANT_LISTS[name][1]
    return listing.grant_statements(and_(condition, _IN_SYSTEM) if in_system else condition,
                                    listing.ENDED_LIST_COLUMNS if name in ENDED_LISTS
                                    else listing.GRANT_LIST_COLUMNS)


def require_dpo(actor: Actor) -> None:
    if not actor.has_role("dpo", "admin"):
        raise Forbidden(_l("Only the DPO and administrators see the dashboard"))


def grant_list(session: Session, actor: Actor, name: str, as_of: date | None = None,
               system: str | None = None, page: int = 1,
               per_page: int | None = None) -> tuple[list, int]:
    """One page of the list behind a figure (the shown columns, see `listing`), and the
    figure itself (the list's length)."""
    require_dpo(actor)
    if name not in GRANT_LISTS:
        raise InvalidInput(_l("Unknown list '%(name)s'", name=name), field="list")
    statements = _list_statements(name, bool(system))
    values = {**day_values(as_of or clock.today()), "system": system}
    return (statements.rows(session, values, page, per_page),
            statements.total(session, values))


# The grants a rule finds, by id: the page's rows in the list's own columns.
_BY_ID = listing.grant_statements(Grant.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class RuleFindings:
    """What every held access fails today, by rule: each rule's grants, and one page of
    the chosen rule's."""
    as_of: date
    by_rule: dict[str, list[int]]   # rule code -> grant ids, in principle order
    rule: str | None
    rows: list
    total: int


def rule_findings(session: Session, actor: Actor, as_of: date | None = None,
                  rule: str | None = None, page: int = 1,
                  per_page: int = 100) -> RuleFindings:
    """Every active access, and every one created in its system and waiting for the
    grantee's acknowledgement, judged by the policy in force now (the re-evaluation): so
    the DPO sees what a new version of a policy no longer allows, and not only the figures
    the dashboard counts. Read on demand: it judges every grant."""
    require_dpo(actor)
    if rule is not None and rule not in RULE_PRINCIPLES:   # before judging every grant
        raise InvalidInput(_l("Unknown rule '%(rule)s'", rule=rule), field="rule")
    as_of = as_of or clock.today()
    _, found = evaluation.reevaluate(session, as_of)
    by_rule: dict[str, list[int]] = {}
    for finding in found:
        ids = by_rule.setdefault(finding.check.code, [])
        if not ids or ids[-1] != finding.grant_id:
            ids.append(finding.grant_id)
    ordered = dict(sorted(by_rule.items(), key=lambda item: (RULE_PRINCIPLES[item[0]],
                                                             item[0])))
    ids = sorted(set(ordered.get(rule, ()))) if rule else []
    start = (max(page, 1) - 1) * per_page
    shown = ids[start:start + per_page]
    rows = _BY_ID.rows(session, {"ids": shown}) if shown else []
    return RuleFindings(as_of, ordered, rule, rows, len(ids))


@dataclass
class Dashboard:
    as_of: date
    counts: dict[str, int]
    by_system_level: dict[tuple[str, str], int]
    by_system: dict[str, int]
    pending_requests: int
    refusals_by_principle: dict[str, int]
    due_by_month: list[tuple[str, int]]
    vacancies: list[register.Vacancy]


_SYSTEM_CODES = select(System.id, System.code)
_ACTIVE_BY_SYSTEM_LEVEL = (select(Grant.system_id, Grant.access_level, func.count())
                           .where(Grant.status == "active")
                           .group_by(Grant.system_id, Grant.access_level))
_PENDING_REQUESTS = (select(func.count()).select_from(AccessRequest)
                     .where(AccessRequest.status == "pending"))


def build(session: Session, actor: Actor, as_of: date | None = None) -> Dashboard:
    require_dpo(actor)
    as_of = as_of or clock.today()
    # Each figure is the count of its list's condition; each condition has an index.
    values = day_values(as_of)
    counts = {name: _list_statements(name, False).total(session, values)
              for name in GRANT_LISTS}
    codes = dict(session.execute(_SYSTEM_CODES).all())
    by_system_level = dict(sorted(
        ((codes[system_id], level), n)
        for system_id, level, n in session.execute(_ACTIVE_BY_SYSTEM_LEVEL)))
    by_system = Counter({code: 0 for code in codes.values()})
    for (code, _level), n in by_system_level.items():
        by_system[code] += n
    pending = session.scalar(_PENDING_REQUESTS)
    return Dashboard(as_of, counts, by_system_level, dict(sorted(by_system.items())), pending,
                     refusals_by_principle(session), reviews_due_by_month(session, as_of),
                     register.vacancies(session))


_PRINCIPLE = re.compile(r'"principle":"(P[1-7])"')


def refusals_by_principle(session: Session, since=None, until=None) -> dict[str, int]:
    """Refused requests counted per principle, from the evidence the refusals left."""
    query = select(AuditEntry.details).where(AuditEntry.action == "request.refused")
    if since is not None:
        query = query.where(AuditEntry.created_at >= since)
    if until is not None:
        query = query.where(AuditEntry.created_at < until)
    result: Counter = Counter()
    for details in session.scalars(query):
        # The details are canonical JSON written by the audit service: the principles can
        # be read off the text without parsing all of it.
        result.update(set(_PRINCIPLE.findall(details)))
    return dict(sorted(result.items()))


def reviews_due_by_month(session: Session, as_of: date, months: int = 13) -> list[tuple[str, int]]:
    """Active grants by the month their review falls due; overdue ones in the first month."""
    dues = session.execute(select(Grant.review_due, func.count()).where(
        Grant.status == "active", Grant.review_due.is_not(None))
        .group_by(Grant.review_due)).all()
    first = as_of.replace(day=1)
    buckets = [add_months(first, i) for i in range(months)]
    counts = Counter()
    for due, n in dues:
        counts[max(due.replace(day=1), first)] += n
    return [(month.strftime("%Y-%m"), counts.get(month, 0)) for month in buckets]


def bar_chart(items: list[tuple[str, int]], width: int = 640, bar: int = 22,
              label_width: int = 110) -> dict:
    """Geometry for a horizontal bar chart drawn as SVG by the template (no scripts)."""
    top = max([n for _, n in items] + [1])
    scale = (width - label_width - 50) / top
    rows = [{"label": name, "value": n, "y": i * (bar + 8), "w": max(n * scale, 0)}
            for i, (name, n) in enumerate(items)]
    return {"rows": rows, "width": width, "height": len(items) * (bar + 8), "bar": bar,
            "label_width": label_width}
