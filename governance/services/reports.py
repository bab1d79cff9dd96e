"""Reports and exports: the register, reviews and audit trail as tables, the yearly review
report and the directorate's status report. Reads only; never writes or commits."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterator, Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload, subqueryload

from ..domain.policy import Principle
from ..domain.rules import add_months
from ..domain.vocabulary import RequestStatus, end_reason_label, label
from ..models import (AccessRequest, Acknowledgement, AuditEntry, Decision, Employee, Grant,
                      Review, System, utcnow)
from . import clock, evaluation, policies
from .actor import Actor
from .errors import Forbidden, InvalidInput
from .permissions import can_read_reports, can_read_review_report
from .reviews import due_on
from .tabular import Table

BATCH = 500
REFUSAL_ACTION = "request.refused"
DECISION_REFUSAL_ACTIONS = ("request.decision_refused", "request.approve_refused",
                            "grant.review_refused", "grant.fulfil_refused")


def require_reader(actor: Actor) -> None:
    if not can_read_reports(actor):
        raise Forbidden(_l("Only the DPO and administrators may read reports and exports"))


def require_review_report_reader(actor: Actor) -> None:
    if not can_read_review_report(actor):
        raise Forbidden(_l("Only approvers, the DPO and administrators may read the review "
                           "report"))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=clock.MUNICIPAL_TZ)


def _batched(session: Session, query, batch: int = BATCH) -> Iterator:
    """ORM rows in id order, a batch at a time: memory stays flat on a long register."""
    entity = query.column_descriptions[0]["entity"]
    last = 0
    while True:
        rows = session.scalars(query.where(entity.id > last).order_by(entity.id)
                               .limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def approver_usernames(grant: Grant) -> list[str]:
    decisions = grant.request.decisions if grant.request else []
    return [d.approver.username for d in decisions if d.decision == "approve"]


# The register of grants -------------------------------------------------------------

REGISTER_COLUMNS = (
    "id", "request_id", "grantee", "grantee_name", "centre", "system", "access_level",
    "scope", "purpose", "tasks", "frequency", "data_categories", "status", "approved_at",
    "approved_by", "created_in_system_at", "active_from", "review_due", "ended_at",
    "end_reason", "ended_by", "removed_at")


def _register_rows(session: Session) -> Iterator[list]:
    query = select(Grant).options(
        selectinload(Grant.grantee).selectinload(Employee.centre), selectinload(Grant.system),
        selectinload(Grant.ended_by),
        selectinload(Grant.request).selectinload(AccessRequest.decisions)
        .selectinload(Decision.approver))
    for g in _batched(session, query):
        # An ended access has no review due: it is not reviewed again.
        yield [g.id, g.request_id, g.grantee.username, g.grantee.name, g.grantee.centre.code,
               g.system.code, g.access_level, g.scope, g.purpose, g.tasks, g.frequency,
               ", ".join(g.data_categories), g.status, g.approved_at,
               ", ".join(approver_usernames(g)), g.fulfilled_at, g.activated_at,
               None if g.ended_at else g.review_due, g.ended_at, g.end_reason,
               g.ended_by.username if g.ended_by else None, g.removed_at]


HELD_COLUMNS = ("id", "grantee", "grantee_name", "centre", "system", "access_level", "scope",
                "approved_by", "approved_at", "tasks", "created_in_system_at",
                "removed_from_system_at", "status_now")


def held_table(day: date, rows: list) -> Table:
    """Who held access on the day (the point-in-time page's rows, whole)."""
    return Table(f"held {day.isoformat()}", HELD_COLUMNS, (
        [r.id, r.grantee_username, r.grantee_name, r.centre_code, r.system_code, r.access_level,
         r.scope, r.approved_by or "", r.approved_at, r.tasks, r.fulfilled_at, r.removed_at,
         r.status] for r in rows))


def register_table(session: Session) -> Table:
    """One row per grant, live or ended: who, what, why, approved by whom, and how it ended."""
    return Table("register", REGISTER_COLUMNS, _register_rows(session))


# The people and their acknowledgements (P3) -----------------------------------------

EMPLOYEE_COLUMNS = ("username", "name", "email", "centre", "title", "roles", "status",
                    "left_on")


def employees_table(session: Session) -> Table:
    """Everyone in the register, leavers with the day they left."""
    query = select(Employee).options(selectinload(Employee.centre),
                                     selectinload(Employee.role_rows))
    return Table("employees", EMPLOYEE_COLUMNS, (
        [e.username, e.name, e.email, e.centre.code, e.title, ", ".join(sorted(e.roles)),
         e.status, e.left_on] for e in _batched(session, query)))


ACKNOWLEDGEMENT_COLUMNS = ("employee", "name", "acknowledged_at", "principles_sha256")


def acknowledgements_table(session: Session) -> Table:
    """Every acknowledgement of the lookup principles, with the version acknowledged."""
    query = select(Acknowledgement).options(selectinload(Acknowledgement.employee))
    return Table("acknowledgements", ACKNOWLEDGEMENT_COLUMNS, (
        [a.employee.username, a.employee.name, a.acknowledged_at, a.principles_sha256]
        for a in _batched(session, query)))


# Every request, with its decisions ---------------------------------------------------

REQUEST_LOG_COLUMNS = (
    "id", "created_at", "requester", "requester_name", "grantee", "grantee_name", "centre",
    "system", "access_level", "scope", "purpose", "tasks", "frequency", "data_categories",
    "write_justification", "approvals_needed", "status", "decided_at", "decisions")


def _decisions_text(req: AccessRequest) -> str:
    """Each decision on the request: 'kfi approve 2026-12-01 10:04: the comment'."""
    return "; ".join(
        f"{d.approver.username} {d.decision} "
        f"{d.decided_at.astimezone(clock.MUNICIPAL_TZ):%Y-%m-%d %H:%M}"
        + (f": {d.comment}" if d.comment else "") for d in req.decisions)


def _request_log_rows(session: Session) -> Iterator[list]:
    query = select(AccessRequest).options(
        selectinload(AccessRequest.requester),
        selectinload(AccessRequest.grantee).selectinload(Employee.centre),
        selectinload(AccessRequest.system),
        selectinload(AccessRequest.decisions).selectinload(Decision.approver))
    for r in _batched(session, query):
        yield [r.id, r.created_at, r.requester.username, r.requester.name, r.grantee.username,
               r.grantee.name, r.grantee.centre.code, r.system.code, r.access_level, r.scope,
               r.purpose, r.tasks, r.frequency, ", ".join(r.data_categories),
               r.write_justification, r.approvals_needed, r.status, r.decided_at,
               _decisions_text(r)]


def request_log_table(session: Session) -> Table:
    """One row per request filed, whatever became of it: who asked for whom, why, and each
    approver's decision with its comment. (Requests refused by the rules were never filed;
    the audit trail keeps them as request.refused.)"""
    return Table("requests", REQUEST_LOG_COLUMNS, _request_log_rows(session))


# Every review ------------------------------------------------------------------------

REVIEW_LOG_COLUMNS = (
    "id", "grant_id", "grantee", "grantee_name", "centre", "system", "access_level", "scope",
    "decision", "comment", "reviewed_on", "reviewer", "reviewer_name", "due_before",
    "due_after", "reviewed_at")


def _review_log_rows(session: Session) -> Iterator[list]:
    query = select(Review).options(
        selectinload(Review.reviewer),
        selectinload(Review.grant).selectinload(Grant.grantee).selectinload(Employee.centre),
        selectinload(Review.grant).selectinload(Grant.system))
    for r in _batched(session, query):
        g = r.grant
        yield [r.id, g.id, g.grantee.username, g.grantee.name, g.grantee.centre.code,
               g.system.code, g.access_level, g.scope, r.decision, r.comment, r.reviewed_on,
               r.reviewer.username, r.reviewer.name, r.due_before, r.due_after, r.reviewed_at]


def review_log_table(session: Session) -> Table:
    """One row per review ever made (keep or revoke), oldest first."""
    return Table("reviews", REVIEW_LOG_COLUMNS, _review_log_rows(session))


# The audit trail -----------------------------------------------------------------------

AUDIT_COLUMNS = ("id", "time", "actor", "action", "object_type", "object_id", "summary",
                 "details", "client_address", "prev_hash", "hash")


def _audit_rows(session: Session, up_to: int | None, where: list = (),
                batch: int = 2000) -> Iterator[list]:
    table, last = AuditEntry.__table__, 0
    while True:
        query = select(table).where(table.c.id > last, *where)
        if up_to is not None:
            query = query.where(table.c.id <= up_to)
        rows = session.execute(query.order_by(table.c.id).limit(batch)).all()
        if not rows:
            return
        for e in rows:
            # The time exactly as hashed (UTC, microseconds), so the chain can be re-checked.
            yield [e.id, e.created_at.isoformat(timespec="microseconds"), e.actor, e.action,
                   e.object_type, e.object_id, e.summary, e.details, e.client_address,
                   e.prev_hash, e.hash]
        last = rows[-1].id


def audit_table(session: Session, up_to: int | None = None, where: list = ()) -> Table:
    """Every audit entry in chain order (to entry up_to), details JSON and hashes as stored;
    `where` narrows it to the entries the audit page's filters find."""
    return Table("audit", AUDIT_COLUMNS, _audit_rows(session, up_to, list(where)))


# What every access held fails by the rules in force (the re-evaluation) ---------------------

FINDING_COLUMNS = ("grant_id", "grantee", "system", "status", "code", "principle", "message_da",
                   "message_en")


def findings_table(session: Session, as_of: date) -> Table:
    """One row per failed check of an access held (active, or created in its system and
    waiting for the acknowledgement), judged on `as_of` by the policies in force: what
    the DPO's findings page shows, for the evidence pack."""
    _, found = evaluation.reevaluate(session, as_of)
    ids = sorted({f.grant_id for f in found})
    about = {row.id: row for row in session.execute(
        select(Grant.id, Grant.status, Employee.username, System.code)
        .join(Employee, Employee.id == Grant.grantee_id).join(System, System.id == Grant.system_id)
        .where(Grant.id.in_(ids)))} if ids else {}
    rows = ([f.grant_id, about[f.grant_id].username, about[f.grant_id].code,
             about[f.grant_id].status, f.check.code, f.check.principle, f.check.message_da,
             f.check.message_en] for f in sorted(found, key=lambda f: (f.grant_id, f.check.code)))
    return Table("findings", FINDING_COLUMNS, rows)


# The yearly review report (P5) -------------------------------------------------------------

REVIEW_STATUSES = {
    "kept": _l("kept"), "revoked": _l("revoked"), "overdue": _l("overdue"),
    "not_yet_due": _l("not yet due"), "ended": _l("ended without review"),
    "ended_overdue": _l("ended overdue, without review"),
    "not_acknowledged": _l("not active: principles not acknowledged"),
}
REVIEW_REPORT_COLUMNS = (
    _l("Name"), _l("User"), _l("Centre"), _l("System"), _l("Level"), _l("Scope"),
    _l("How granted"), _l("Valid from"), _l("Valid to"), _l("Review status"),
    _l("Review due"), _l("Days overdue"), _l("Reviewed by"), _l("Date"), _l("Remark"))


@dataclass(frozen=True)
class ReviewReportRow:
    grant: Grant
    status: str  # a key of REVIEW_STATUSES
    review: Review | None
    due: date | None          # the due date that applied: at the review, the end, or the day
    days_overdue: int | None = None   # how late the review was, the end came, or it is now

    def remark(self, locale: str = "da") -> str:
        if self.review:
            return self.review.comment
        if self.status in ("ended", "ended_overdue"):
            return end_reason_label(self.grant.end_reason, locale)
        if self.status == "not_acknowledged":   # in the request's language, as the columns
            return str(_l("Created in the system on %(date)s; the grantee has not "
                          "acknowledged the lookup principles (principle 3)",
                          date=clock.day_text(clock.local_date(self.grant.fulfilled_at),
                                              locale)))
        return ""


def parse_cycle(value: str | None, as_of: date) -> int:
    """A calendar year (?cycle=2026); the current year when absent."""
    if not value:
        return as_of.year
    try:
        year = int(value)
    except ValueError:
        year = 0
    if not 2000 <= year <= 2100:
        raise InvalidInput(_l("'cycle' must be a year, such as %(year)s", year=as_of.year),
                           field="cycle")
    return year


def review_status(grant: Grant, review: Review | None, reference: date) -> str:
    if review is not None:
        return "kept" if review.decision == "keep" else "revoked"
    ended = clock.local_date(grant.ended_at)
    if ended is not None and ended <= reference:
        due = due_on(grant, ended)
        return "ended_overdue" if due is not None and due < ended else "ended"
    created = grant.fulfilled_at is not None and clock.local_date(grant.fulfilled_at) <= reference
    if grant.activated_at is None or (created and clock.local_date(grant.activated_at)
                                      > reference):
        return "not_acknowledged"   # created in the system, not (yet) active then (P3)
    due = due_on(grant, reference)
    return "overdue" if due is not None and due < reference else "not_yet_due"


def cycle_reference(cycle: int, as_of: date) -> date:
    """The day the report's statuses are judged on: the year's last day, or today."""
    return min(date(cycle, 12, 31), as_of)


def review_report(session: Session, cycle: int, as_of: date) -> list[ReviewReportRow]:
    """One row per grant active at some point in the year, with its last review that year.
    An access created in its system but never active, as its grantee never acknowledged the
    lookup principles, is held there all the same: it has a row too, saying so."""
    first, last = date(cycle, 1, 1), date(cycle, 12, 31)
    reference = cycle_reference(cycle, as_of)
    # Held in its system from its creation there (activation may come later, with the
    # acknowledgement; a grant from before that was recorded has only its activation).
    held_from = func.coalesce(Grant.fulfilled_at, Grant.activated_at)
    query = (select(Grant).join(Grant.grantee).join(Grant.system)
             .where(held_from.is_not(None),
                    held_from < _start_of(last + timedelta(days=1)),
                    or_(Grant.ended_at.is_(None), Grant.ended_at >= _start_of(first)))
             .order_by(Employee.name, System.code, Grant.id)
             .options(selectinload(Grant.grantee).selectinload(Employee.centre),
                      selectinload(Grant.system),
                      selectinload(Grant.reviews).selectinload(Review.reviewer),
                      selectinload(Grant.request).selectinload(AccessRequest.decisions)
                      .selectinload(Decision.approver)))
    rows = []
    for grant in session.scalars(query):
        in_year = [r for r in grant.reviews if first <= r.reviewed_on <= last]
        review = max(in_year, key=lambda r: (r.reviewed_on, r.id)) if in_year else None
        rows.append(_review_row(grant, review, reference))
    return rows


def _review_row(grant: Grant, review: Review | None, reference: date) -> ReviewReportRow:
    """The row, with the due date that applied and how late it was: a review made after
    its due date, an access that ended overdue without one, or one overdue now (P5)."""
    status = review_status(grant, review, reference)
    if review is not None:
        due, moment = review.due_before, review.reviewed_on
    elif status in ("ended", "ended_overdue"):
        moment = clock.local_date(grant.ended_at)
        due = due_on(grant, moment)
    elif status == "not_acknowledged":
        return ReviewReportRow(grant, status, review, None)   # not active: no review due
    else:
        due, moment = due_on(grant, reference), reference
    late = (moment - due).days if due is not None and moment > due else None
    return ReviewReportRow(grant, status, review, due, late)


def how_granted(grant: Grant) -> str:
    if grant.request_id is None:
        return str(_l("registered without a request"))
    return str(_l("request %(id)s, approved by %(approvers)s", id=grant.request_id,
                  approvers=", ".join(approver_usernames(grant)) or "–"))


def review_report_table(rows: list[ReviewReportRow], cycle: int, locale: str) -> Table:
    """The review report in the reader's language, in the columns auditors know."""
    def cells(row: ReviewReportRow) -> list:
        g, r = row.grant, row.review
        return [g.grantee.name, g.grantee.username, g.grantee.centre.code, g.system.code,
                label(g.access_level, locale), label(g.scope, locale), how_granted(g),
                clock.local_date(g.activated_at), clock.local_date(g.ended_at),
                str(REVIEW_STATUSES[row.status]), row.due, row.days_overdue,
                r.reviewer.username if r else None,
                r.reviewed_on if r else None, row.remark(locale)]
    return Table(str(_l("Reviews %(year)s", year=cycle)),
                 [str(c) for c in REVIEW_REPORT_COLUMNS], (cells(row) for row in rows))


# The directorate's status report (19-11-2024) ---------------------------------------------

@dataclass
class StatusReport:
    start: date
    end: date
    requests: dict[str, int] = field(default_factory=dict)
    grants_by_system: list[tuple[System, int]] = field(default_factory=list)
    reviews: dict[str, int] = field(default_factory=dict)
    overdue: list[tuple[Grant, date]] = field(default_factory=list)
    refusals: int = 0
    refusals_by_principle: list[tuple[str, int, dict[str, int]]] = field(default_factory=list)
    # Decisions and reviews the rules refused (P4: one's own request or access, or not a
    # named approver), by rule code.
    refused_decisions: dict[str, int] = field(default_factory=dict)
    removal_tasks: list[Grant] = field(default_factory=list)
    principles: dict[str, Principle] = field(default_factory=dict)
    made_at: datetime = field(default_factory=utcnow)

    @property
    def requests_total(self) -> int:
        return sum(self.requests.values())

    @property
    def active_grants(self) -> int:
        return sum(count for _system, count in self.grants_by_system)

    @property
    def reviews_total(self) -> int:
        return sum(self.reviews.values())


def _date(args: Mapping, key: str) -> date | None:
    value = (args.get(key) or "").strip()
    return clock.parse_date(value, key) if value else None


def parse_period(args: Mapping, today: date) -> tuple[date, date]:
    """?from=&to= as dates; by default the three months up to today."""
    end = _date(args, "to") or today
    start = _date(args, "from") or add_months(end, -3)
    if start > end:
        raise InvalidInput(_l("The period must start before it ends"), field="from")
    return start, end


def status_report(session: Session, start: date, end: date) -> StatusReport:
    """The figures for the period; the lists behind the overdue and removal figures."""
    since, until = _start_of(start), _start_of(end + timedelta(days=1))
    report = StatusReport(start, end, principles={
        p.id: p for p in policies.in_force(session).principles})

    counts = dict(session.execute(
        select(AccessRequest.status, func.count(AccessRequest.id))
        .where(AccessRequest.created_at >= since, AccessRequest.created_at < until)
        .group_by(AccessRequest.status)).all())
    report.requests = {status.value: counts.get(status.value, 0) for status in RequestStatus}

    # Active (carried out and acknowledged, not ended) at the close of the last day.
    live = session.scalars(select(Grant).where(
        Grant.activated_at < until, or_(Grant.ended_at.is_(None), Grant.ended_at >= until))
        # One statement per relation however many grants: this list is not paged.
        .options(joinedload(Grant.grantee), joinedload(Grant.system),
                 subqueryload(Grant.reviews))).unique().all()
    per_system = Counter(g.system_id for g in live)
    report.grants_by_system = [(s, per_system[s.id]) for s in
                               session.scalars(select(System).order_by(System.code))]
    dues = [(g, due_on(g, end)) for g in live]
    report.overdue = sorted(((g, due) for g, due in dues if due is not None and due < end),
                            key=lambda item: (item[1], item[0].id))

    decided = dict(session.execute(
        select(Review.decision, func.count(Review.id))
        .where(Review.reviewed_on >= start, Review.reviewed_on <= end)
        .group_by(Review.decision)).all())
    report.reviews = {"keep": decided.get("keep", 0), "revoke": decided.get("revoke", 0)}

    principles: Counter = Counter()
    codes: dict[str, Counter] = {}
    for details in session.scalars(select(AuditEntry.details).where(
            AuditEntry.action == REFUSAL_ACTION, AuditEntry.created_at >= since,
            AuditEntry.created_at < until)):
        report.refusals += 1
        violations = json.loads(details).get("violations", [])
        for principle in {v.get("principle") or "–" for v in violations}:
            principles[principle] += 1
        for v in violations:
            codes.setdefault(v.get("principle") or "–", Counter())[v.get("code", "?")] += 1
    report.refusals_by_principle = [(p, n, dict(sorted(codes[p].items())))
                                    for p, n in sorted(principles.items())]
    refused: Counter = Counter()
    for details in session.scalars(select(AuditEntry.details).where(
            AuditEntry.action.in_(DECISION_REFUSAL_ACTIONS), AuditEntry.created_at >= since,
            AuditEntry.created_at < until)):
        refused.update(json.loads(details).get("violations", []))
    report.refused_decisions = dict(sorted(refused.items()))

    report.removal_tasks = list(session.scalars(
        select(Grant).where(Grant.status.in_(("revoked", "expired")),
                            Grant.ended_at < until, Grant.fulfilled_at < until,
                            or_(Grant.removed_at.is_(None), Grant.removed_at >= until))
        .order_by(Grant.ended_at, Grant.id)
        .options(joinedload(Grant.grantee), joinedload(Grant.system))))
    return report
