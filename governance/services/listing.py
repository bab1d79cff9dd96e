"""What a list page shows, read as plain rows: the shown columns, joined, in one statement.

A list page shows up to a hundred rows of a few columns. Building ORM objects for them, and
for the employees, centres and systems they point to, costs several times what the query
costs. These selects read only the shown columns, so a page costs about what its SQL costs,
and the number of statements stays the same however many rows are shown.

Each function takes the `where` clause of the list (the services own which rows belong to
a list) and returns rows whose attributes are named as the templates use them.
"""
from __future__ import annotations

from collections import defaultdict, namedtuple
from functools import lru_cache
from typing import Any, Iterable, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ..models import AccessRequest, Centre, Decision, Employee, Grant, Review, System

Grantee = aliased(Employee, name="grantee")
Requester = aliased(Employee, name="requester")
GranteeCentre = aliased(Centre, name="grantee_centre")

GRANT_COLUMNS = (
    Grant.id, Grant.request_id, Grant.grantee_id, Grant.access_level, Grant.scope,
    Grant.status, Grant.purpose, Grant.tasks, Grant.frequency, Grant.approved_at,
    Grant.review_due, Grant.fulfilled_at, Grant.removed_at,
    Grantee.name.label("grantee_name"), Grantee.username.label("grantee_username"),
    Grantee.title.label("grantee_title"), GranteeCentre.code.label("centre_code"),
    System.code.label("system_code"))

_APPROVALS = (select(func.count(Decision.id))
              .where(Decision.request_id == AccessRequest.id, Decision.decision == "approve")
              .correlate(AccessRequest).scalar_subquery())

REQUEST_COLUMNS = (
    AccessRequest.id, AccessRequest.access_level, AccessRequest.scope, AccessRequest.status,
    AccessRequest.purpose, AccessRequest.approvals_needed, AccessRequest.created_at,
    Grantee.name.label("grantee_name"), Grantee.username.label("grantee_username"),
    GranteeCentre.code.label("centre_code"), Requester.name.label("requester_name"),
    System.code.label("system_code"), _APPROVALS.label("approvals"))


def _shown(session: Session, query) -> list:
    """The rows as named tuples: a template reads a tuple's fields several times faster
    than a result row's, and a page reads about a thousand of them."""
    result = session.execute(query)
    shape = _tuple_class(tuple(result.keys()))
    return [shape._make(row) for row in result]


@lru_cache(maxsize=64)
def _tuple_class(fields: tuple[str, ...]):
    return namedtuple("Shown", fields)


def count(session: Session, entity: Any, where) -> int:
    """How many rows the list holds (the figure beside it)."""
    return session.scalar(select(func.count(entity.id)).where(where)) or 0


def grant_rows(session: Session, where, *, order_by: Iterable = (Grant.id,),
               limit: int | None = None, offset: int = 0) -> list:
    """One page of grants with their grantee, the grantee's centre and the system."""
    query = (select(*GRANT_COLUMNS)
             .join(Grantee, Grantee.id == Grant.grantee_id)
             .join(GranteeCentre, GranteeCentre.id == Grantee.centre_id)
             .join(System, System.id == Grant.system_id)
             .where(where).order_by(*order_by).offset(offset))
    if limit is not None:
        query = query.limit(limit)
    return _shown(session, query)


def request_rows(session: Session, where, *, order_by: Iterable = (AccessRequest.id,),
                 limit: int | None = None, offset: int = 0) -> list:
    """One page of requests with grantee, centre, requester, system and approvals so far."""
    query = (select(*REQUEST_COLUMNS)
             .join(Grantee, Grantee.id == AccessRequest.grantee_id)
             .join(GranteeCentre, GranteeCentre.id == Grantee.centre_id)
             .join(Requester, Requester.id == AccessRequest.requester_id)
             .join(System, System.id == AccessRequest.system_id)
             .where(where).order_by(*order_by).offset(offset))
    if limit is not None:
        query = query.limit(limit)
    return _shown(session, query)


def approvers(session: Session, request_ids: Iterable[int | None]) -> dict[int, list]:
    """Per request, the approvals that granted it (name and username), in order."""
    ids = sorted({i for i in request_ids if i is not None})
    found: dict[int, list] = defaultdict(list)
    if ids:
        for row in _shown(session, select(Decision.request_id, Employee.name,
                                          Employee.username)
                          .join(Employee, Employee.id == Decision.approver_id)
                          .where(Decision.request_id.in_(ids), Decision.decision == "approve")
                          .order_by(Decision.request_id, Decision.id)):
            found[row.request_id].append(row)
    return found


class LastReview(NamedTuple):
    reviewed_on: Any
    reviewer_name: str
    comment: str


def last_reviews(session: Session, grant_ids: Iterable[int]) -> dict[int, LastReview]:
    """Per grant, its most recent review."""
    ids = sorted(set(grant_ids))
    if not ids:
        return {}
    latest = (select(func.max(Review.id)).where(Review.grant_id.in_(ids))
              .group_by(Review.grant_id))
    return {row.grant_id: LastReview(row.reviewed_on, row.name, row.comment)
            for row in session.execute(
                select(Review.grant_id, Review.reviewed_on, Employee.name, Review.comment)
                .join(Employee, Employee.id == Review.reviewer_id)
                .where(Review.id.in_(latest)))}
