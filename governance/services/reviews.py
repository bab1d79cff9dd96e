"""Yearly reviews (P5): who must re-assess what, keep or revoke, reminders and escalation."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from ..domain.policy import Policy
from ..domain.rules import (acknowledgement_current, acknowledgement_lapses,
                            acknowledgement_renewal_due, check_decider, check_review, failures,
                            review_due)
from ..domain.vocabulary import REVIEW_REASON_PREFIX
from ..models import (AccessRequest, Acknowledgement, Decision, Employee, EmployeeRole,
                      Grant, Review, System)
from . import audit, auth, clock, evaluation, grants, listing, notify, policies
from .actor import Actor
from .errors import (Conflict, Forbidden, InvalidInput, NotFound, RuleViolation, refusal_audit,
                     within)
from .requests import DecisionRefused

DUE_WINDOW_DAYS = 30


def _policy_for(session: Session, grant: Grant) -> Policy | None:
    return policies.in_force(session).policies.get(grant.purpose)


def _grants_with_their_people(*where):
    return (select(Grant).where(*where)
            .options(selectinload(Grant.grantee).selectinload(Employee.centre),
                     selectinload(Grant.system),
                     selectinload(Grant.request).selectinload(AccessRequest.decisions)
                     .selectinload(Decision.approver),
                     selectinload(Grant.reviews).selectinload(Review.reviewer)))


def _live_grants(session: Session):
    return _grants_with_their_people(Grant.status == "active")


class Person(NamedTuple):
    """A grantee as the review page heads their accesses."""
    name: str
    username: str
    title: str
    centre_code: str
    # Their latest acknowledgement of the lookup principles, and whether it is current
    # on the day (P3): the reviewer sees a lapse before keeping the access.
    acknowledged_on: date | None = None
    acknowledged_now: bool = True


@dataclass
class ReviewQueue:
    """Grants due within the window or overdue, grouped by grantee, the most urgent first.
    The grants are list rows (see `listing.REVIEW_COLUMNS`)."""

    as_of: date
    by_grantee: dict[Person, list] = field(default_factory=dict)
    own: int = 0
    total: int = 0
    # Per grantee with more than one read access shown: their ids, which may be kept with
    # one comment. Write access is never kept in bulk (bulk_keep refuses it too).
    in_bulk: dict[Person, list[int]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(items) for items in self.by_grantee.values())


# Active grants due within the window (:horizon) or overdue; the reviewer's are those under
# a policy naming them (:purposes), never their own (:me). Values are bound: see `listing`.
_DUE = and_(Grant.status == "active", Grant.review_due <= bindparam("horizon"))
_OWN_DUE = select(func.count()).select_from(Grant).where(_DUE, Grant.grantee_id == bindparam("me"))
_TO_REVIEW = listing.grant_statements(
    and_(_DUE, Grant.purpose.in_(bindparam("purposes", expanding=True)),
         Grant.grantee_id != bindparam("me")),
    listing.REVIEW_COLUMNS, order_by=(Grant.review_due, Grant.id))


def queue_for(session: Session, actor: Actor, as_of: date | None = None,
              limit: int = 100) -> ReviewQueue:
    """The reviewer's page: due in the next 30 days, and overdue; never their own access.
    At most `limit` grants at a time, the most urgent first; `total` says how many wait."""
    as_of = as_of or clock.today()
    if not actor.has_role("approver"):
        raise Forbidden(_l("Only the named approvers review access"))
    values = {"horizon": as_of + timedelta(days=DUE_WINDOW_DAYS), "me": actor.employee_id,
              "purposes": [pid for pid, policy in policies.in_force(session).policies.items()
                           if actor.username in policy.approver_usernames]}
    queue = ReviewQueue(as_of)
    queue.own = session.scalar(_OWN_DUE, values)
    queue.total = _TO_REVIEW.total(session, values)
    rows = _TO_REVIEW.rows(session, values, 1, limit)
    grouped: dict[Person, list] = defaultdict(list)
    for row in rows:
        acknowledged = clock.local_date(row.acknowledged_at)
        grouped[Person(row.grantee_name, row.grantee_username, row.grantee_title,
                       row.centre_code, acknowledged,
                       acknowledgement_current(acknowledged, as_of))].append(row)
    queue.by_grantee = dict(sorted(grouped.items(), key=lambda kv: (kv[0].name,
                                                                    kv[0].username)))
    for person, items in queue.by_grantee.items():
        reads = [row.id for row in items if row.access_level == "read"]
        if len(reads) > 1:
            queue.in_bulk[person] = reads
    return queue


def due_on(grant: Grant, day: date) -> date | None:
    """The review due date that was in force on a day: later reviews record what they moved."""
    later = [r for r in grant.reviews if r.reviewed_on > day]
    return min(later, key=lambda r: (r.reviewed_on, r.id)).due_before if later else grant.review_due


class OverdueGrant(NamedTuple):
    grant: Grant
    due: date          # the review due date in force on the day asked about

    def days(self, as_of: date) -> int:
        return (as_of - self.due).days

    def finding(self, as_of: date):
        return check_review(self.due, as_of)


def overdue(session: Session, as_of: date | None = None) -> list[OverdueGrant]:
    """Grants whose review was overdue on the day (REVIEW_OVERDUE). Today or later: the
    active grants whose due date has passed by then. A past day: the register as it stood
    at its end (active then, with the due date in force then), so that a review or a
    revocation made since does not rewrite what was overdue, as the status report has it."""
    as_of = as_of or clock.today()
    if as_of >= clock.today():
        return [OverdueGrant(grant, grant.review_due) for grant in session.scalars(
            _live_grants(session).where(Grant.review_due < as_of)
            .order_by(Grant.review_due, Grant.id))]
    end = clock.day_end(as_of)
    active_then = _grants_with_their_people(
        Grant.activated_at < end, or_(Grant.ended_at.is_(None), Grant.ended_at >= end))
    found = [OverdueGrant(grant, due) for grant in session.scalars(active_then)
             if (due := due_on(grant, as_of)) is not None and due < as_of]
    return sorted(found, key=lambda item: (item.due, item.grant.id))


def review(session: Session, actor: Actor, grant_id: int, decision: str, comment: str,
           as_of: date | None = None) -> Review:
    """Keep (the need still holds; the due date moves) or revoke (the grant ends)."""
    as_of = as_of or clock.today()
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(_l("No access with number %(id)s", id=grant_id))
    if decision not in ("keep", "revoke"):
        raise InvalidInput(_l("'decision' must be 'keep' or 'revoke'"), field="decision")
    comment = within((comment or "").strip(), "comment")
    if not comment:
        raise InvalidInput(_l("Write a comment: why the need still holds, or why it ends"),
                           field="comment")
    policy = _policy_for(session, grant)
    if policy is None:
        raise Conflict(_l("Access %(id)s is under a policy no longer in force", id=grant.id))
    refused = failures(check_decider(actor.username, "", grant.grantee.username, policy,
                                     reviewing=True, approver_role=actor.has_role("approver")))
    if refused:
        raise DecisionRefused(actor, refused, audit=refusal_audit(
            "grant.review_refused", "grant", grant.id,
            f"{actor.username}'s review of grant {grant.id}", refused, decision=decision))
    if grant.status != "active":
        why = {"approved": _l("Only active access is reviewed; access %(id)s is not active "
                              "yet", id=grant.id),
               "revoked": _l("Only active access is reviewed; access %(id)s has been "
                             "revoked", id=grant.id)}
        raise Conflict(why.get(grant.status) or _l(
            "Only active access is reviewed; access %(id)s has expired", id=grant.id))
    due_before = grant.review_due
    due_after = (review_due(as_of, policy.review_interval_for(grant.system.code))
                 if decision == "keep" else None)
    no_longer = evaluation.access_failures_now(session, grant) if decision == "keep" else []
    if no_longer:
        # The policy in force no longer allows this access (a new version since it was
        # approved): keeping it would confirm what the rules refuse. It is revoked instead.
        raise RuleViolation(no_longer, audit=refusal_audit(
            "grant.review_refused", "grant", grant.id,
            f"{actor.username}'s keep of grant {grant.id}", no_longer, decision=decision))
    if decision == "keep":
        landed = session.execute(
            update(Grant).where(Grant.id == grant.id, Grant.status == "active",
                                Grant.review_due == due_before)
            .values(review_due=due_after).execution_options(synchronize_session=False))
        if landed.rowcount != 1:
            raise Conflict(_l("Access %(id)s was reviewed by someone else at the same "
                              "moment", id=grant.id))
        session.refresh(grant)
    row = Review(grant=grant, reviewer_id=actor.employee_id, decision=decision,
                 comment=comment, reviewed_on=as_of, due_before=due_before,
                 due_after=due_after)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor.username, action=f"grant.review_{decision}",
                 object_type="grant", object_id=grant.id,
                 summary=f"{actor.username} reviewed grant {grant.id} "
                         f"({grant.grantee.username} on {grant.system.code}): {decision}",
                 details={"before": {"review_due": due_before},
                          "after": {"review_due": due_after}, "comment": comment,
                          "review": row.id, "reviewed_on": as_of},
                 client_address=actor.client_address)
    if decision == "revoke":
        # The whole comment is in the review; the end reason holds what fits of it.
        grants.end_grant(session, actor, grant, "revoked",
                         f"{REVIEW_REASON_PREFIX}{comment}"[:grants.END_REASON_MAX],
                         "grant.revoke")
    return row


def bulk_keep(session: Session, actor: Actor, grant_ids: list[int], comment: str,
              as_of: date | None = None) -> list[Review]:
    """Keep several read accesses with one comment; write access is always reviewed alone."""
    if not grant_ids:
        raise InvalidInput(_l("Choose the accesses to keep"), field="grant_ids")
    chosen = session.scalars(select(Grant).where(Grant.id.in_(grant_ids))).all()
    if len(chosen) != len(set(grant_ids)):
        raise NotFound(_l("One of the chosen accesses does not exist"))
    written = [g.id for g in chosen if g.access_level == "write"]
    if written:
        raise InvalidInput(_l("Write access is reviewed one at a time, not in bulk "
                              "(access %(ids)s)", ids=", ".join(map(str, written))),
                           field="grant_ids")
    return [review(session, actor, g.id, "keep", comment, as_of) for g in chosen]


@dataclass
class ReminderReport:
    reminders: int = 0
    escalations: int = 0
    expired: list[int] = field(default_factory=list)
    acknowledgement_reminders: int = 0
    removal_reminders: list[int] = field(default_factory=list)    # grant ids
    removal_escalations: list[int] = field(default_factory=list)
    # Access created in its system whose grantee has not acknowledged (grant ids).
    unacknowledged_reminders: list[int] = field(default_factory=list)
    unacknowledged_escalations: list[int] = field(default_factory=list)
    token_reminders: list[int] = field(default_factory=list)    # API token ids

    @property
    def queued(self) -> bool:
        """Whether any e-mail was queued (expiry alone queues removal tasks too)."""
        return bool(self.reminders or self.escalations or self.expired
                    or self.acknowledgement_reminders or self.removal_reminders
                    or self.removal_escalations or self.unacknowledged_reminders
                    or self.unacknowledged_escalations or self.token_reminders)


# An access that has ended but is still in the system (its removal not recorded): the
# system's user administrators are reminded a week after it ended and each week after,
# and the DPO is told once when it has waited two weeks.
REMOVAL_REMIND_AFTER_DAYS = 7
REMOVAL_ESCALATE_AFTER_DAYS = 14


def _remind_removals(session: Session, as_of: date, dpos: list[Employee],
                     report: ReminderReport) -> None:
    waiting = session.scalars(
        select(Grant).where(grants.AWAITING_REMOVAL)
        .options(selectinload(Grant.grantee), selectinload(Grant.system)
                 .selectinload(System.user_admins)).order_by(Grant.id))
    for grant in waiting:
        if grant.id in report.expired:
            continue  # ended in this very run (dated now, whatever day `as_of` says)
        days = (as_of - clock.local_date(grant.ended_at)).days
        if days < REMOVAL_REMIND_AFTER_DAYS:
            continue
        # Every administrator and DPO is told (no short-cut after the first); the grant is
        # counted if anyone was told anew.
        week = days // 7
        reminded = [notify.removal_reminder(session, grant, admin, days, week)
                    for admin in grant.system.user_admins if admin.active]
        if any(reminded):
            report.removal_reminders.append(grant.id)
        if days >= REMOVAL_ESCALATE_AFTER_DAYS:
            told = [notify.removal_escalation(session, grant, dpo, days) for dpo in dpos]
            if any(told):
                report.removal_escalations.append(grant.id)


# An access created in its system while its grantee has not acknowledged the lookup
# principles is held there, though not active: the grantee is reminded after a week, and
# the DPO told once after a month.
ACKNOWLEDGE_REMIND_AFTER_DAYS = 7
ACKNOWLEDGE_ESCALATE_AFTER_DAYS = 30


def _remind_created_unacknowledged(session: Session, as_of: date, dpos: list[Employee],
                                   report: ReminderReport) -> None:
    waiting = session.scalars(
        select(Grant).join(Grant.grantee)
        .where(Grant.status == "approved", Grant.fulfilled_at.is_not(None),
               Employee.status == "active")
        .options(selectinload(Grant.grantee), selectinload(Grant.system)).order_by(Grant.id))
    for grant in waiting:
        days = (as_of - clock.local_date(grant.fulfilled_at)).days
        if days >= ACKNOWLEDGE_REMIND_AFTER_DAYS and notify.acknowledge_reminder(
                session, grant, days):
            report.unacknowledged_reminders.append(grant.id)
        if days >= ACKNOWLEDGE_ESCALATE_AFTER_DAYS and any(
                [notify.acknowledge_escalation(session, grant, dpo, days) for dpo in dpos]):
            report.unacknowledged_escalations.append(grant.id)


def _approvers_of(grant: Grant, policy: Policy, people: dict[str, Employee]) -> list[Employee]:
    named = [people[u] for u in policy.approver_usernames if u in people]
    named = [p for p in named if p.active and p.has_role("approver")
             and p.id != grant.grantee_id]
    approved_by = {d.approver_id for d in (grant.request.decisions if grant.request else [])
                   if d.decision == "approve"}
    responsible = [p for p in named if p.id in approved_by]
    return responsible or named


def remind(session: Session, actor: Actor, as_of: date | None = None) -> ReminderReport:
    """Queue reminders before the due date and escalation after it; each once per cycle.
    Where the policy says so, end access overdue by too long as expired."""
    as_of = as_of or clock.today()
    report = ReminderReport()
    people = {e.username: e for e in session.scalars(
        select(Employee).options(selectinload(Employee.role_rows)))}
    dpos = session.scalars(select(Employee).join(EmployeeRole).where(
        EmployeeRole.role == "dpo", Employee.status == "active")).all()
    horizon = as_of + timedelta(days=90)
    for grant in session.scalars(_live_grants(session).where(Grant.review_due <= horizon)):
        policy = _policy_for(session, grant)
        if policy is None or grant.review_due is None:
            continue
        days_left = (grant.review_due - as_of).days
        responsible = _approvers_of(grant, policy, people)
        if days_left >= 0:
            reached = [d for d in policy.reminder_days if days_left <= d]
            if reached:
                threshold = min(reached)
                for person in responsible:
                    if notify.review_reminder(session, grant, person, threshold, days_left):
                        report.reminders += 1
            continue
        overdue_days = -days_left
        expire_after = policy.expire_overdue_after_days
        if expire_after is not None and overdue_days > expire_after:
            grants.end_grant(session, actor, grant, "expired", "not re-assessed",
                             "grant.expire")
            report.expired.append(grant.id)
            continue
        if overdue_days >= policy.escalate_after_days:
            others = [p for p in people.values() if p.username in policy.approver_usernames
                      and p.active and p.has_role("approver") and p.id != grant.grantee_id
                      and p not in responsible]
            for person in [*others, *dpos]:
                if notify.review_escalation(session, grant, person, overdue_days):
                    report.escalations += 1
    report.acknowledgement_reminders = _remind_acknowledgements(session, as_of)
    _remind_created_unacknowledged(session, as_of, dpos, report)
    _remind_removals(session, as_of, dpos, report)
    report.token_reminders = auth.remind_expiring_tokens(session, as_of)
    if report.queued:
        audit.record(session, actor=actor.username, action="reviews.remind",
                     object_type="reviews", object_id=as_of.isoformat(),
                     summary=f"Review reminders for {as_of.isoformat()}: {report.reminders} "
                             f"reminders, {report.escalations} escalations, "
                             f"{len(report.expired)} expired, "
                             f"{report.acknowledgement_reminders} acknowledgement reminders, "
                             f"{len(report.removal_reminders)} removals chased"
                             + (f", {len(report.token_reminders)} expiring API tokens"
                                if report.token_reminders else ""),
                     details={"as_of": as_of, "expired": report.expired,
                              "acknowledgement_reminders": report.acknowledgement_reminders,
                              "removal_reminders": report.removal_reminders,
                              "removal_escalations": report.removal_escalations,
                              "unacknowledged_reminders": report.unacknowledged_reminders,
                              "unacknowledged_escalations":
                                  report.unacknowledged_escalations,
                              "token_reminders": report.token_reminders},
                     client_address=actor.client_address)
    return report


def _remind_acknowledgements(session: Session, as_of: date) -> int:
    """P3: a grantee with active access is asked to acknowledge the lookup principles again
    a month before the yearly acknowledgement lapses, and once more when it has lapsed."""
    latest = (select(Acknowledgement.employee_id,
                     func.max(Acknowledgement.acknowledged_at).label("at"))
              .group_by(Acknowledgement.employee_id).subquery())
    holders = select(Grant.grantee_id).where(Grant.status == "active")
    rows = session.execute(
        select(Employee, latest.c.at).join(latest, latest.c.employee_id == Employee.id)
        .where(Employee.status == "active", Employee.id.in_(holders))
        .order_by(Employee.username)).all()
    queued = 0
    for person, acknowledged_at in rows:
        acknowledged_on = clock.local_date(acknowledged_at)
        lapses = acknowledgement_lapses(acknowledged_on)
        if acknowledgement_renewal_due(acknowledged_on, as_of) and notify.renew_acknowledgement(
                session, person, lapses, lapsed=as_of >= lapses):
            queued += 1
    return queued
