"""What a list page shows, read as plain rows: the shown columns, joined, in one statement.

A list page shows up to a hundred rows of a few columns. Building ORM objects for them, and
for the employees, centres and systems they point to, costs several times what the query
costs. These selects read only the shown columns, so a page costs about what its SQL costs,
and the number of statements stays the same however many rows are shown.

The statements are built once per shape of list and reused with new values: every value
that changes between requests (a day, the person asking, a page) is a bound parameter.
SQLAlchemy then neither builds the statement again nor works out its cache key, which for
a joined select of twenty columns costs about as much as running it on SQLite.
"""
from __future__ import annotations

from collections import namedtuple
from functools import lru_cache
from typing import Any, Iterable, NamedTuple

from sqlalchemy import Integer, String, bindparam, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select
from sqlalchemy.sql.functions import GenericFunction

from ..models import (AccessRequest, Acknowledgement, Centre, Decision, Employee, Grant,
                      Review, System)

Grantee = aliased(Employee, name="grantee")
Requester = aliased(Employee, name="requester")
GranteeCentre = aliased(Centre, name="grantee_centre")

# The furthest page a list can be asked for: beyond it the offset would overflow the
# database's integers (a 500), and no register has a hundred million rows to page through.
MAX_PAGE = 1_000_000
LIMIT = bindparam("limit", type_=Integer())
OFFSET = bindparam("offset", type_=Integer())

# What each kind of grant list shows. Fewer columns is less to read and to convert (a
# timestamp costs a parse per row on SQLite), and a table is joined only when shown.
_GRANTEE_NAME = Grantee.name.label("grantee_name")
_SYSTEM_CODE = System.code.label("system_code")
_CENTRE_CODE = GranteeCentre.code.label("centre_code")
# in_system: an approved grant already created in its system waits only for the grantee's
# acknowledgement, and its status says so.
_IN_SYSTEM = Grant.fulfilled_at.is_not(None).label("in_system")
GRANT_LIST_COLUMNS = (Grant.id, Grant.access_level, Grant.scope, Grant.status, _IN_SYSTEM,
                      Grant.approved_at, Grant.review_due, _GRANTEE_NAME, _SYSTEM_CODE)
# Lists of ended access still in a system also say when it ended (how long removal waits).
ENDED_LIST_COLUMNS = GRANT_LIST_COLUMNS + (Grant.ended_at,)
Approver = aliased(Employee, name="approver")
LastReview = aliased(Review, name="last_review")
Reviewer = aliased(Employee, name="reviewer")
_LATEST = aliased(Review, name="latest")


class joined_in_order(GenericFunction):
    """`joined_in_order(text, key)`: the texts of a group joined with ", ", in key order."""
    type = String()
    inherit_cache = True


@compiles(joined_in_order, "postgresql")
def _joined_in_order_postgresql(element, compiler, **kw):
    text, key = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"string_agg({text}, ', ' ORDER BY {key})"


@compiles(joined_in_order)
def _joined_in_order(element, compiler, **kw):
    # SQLite before 3.44 has no ORDER BY inside an aggregate. The approvals of a request
    # are read through ix_decisions_request_id, which keeps them in id order.
    text, _key = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"group_concat({text}, ', ')"


def _approvers(column) -> Any:
    """The approvals that granted the grant, in the order given, as one text:
    "Anna Hansen, Tom Olsen"."""
    return (select(joined_in_order(column, Decision.id))
            .select_from(Decision).join(Approver, Approver.id == Decision.approver_id)
            .where(Decision.request_id == Grant.request_id, Decision.decision == "approve")
            .correlate(Grant).scalar_subquery())


# The grant's most recent review, joined (outer) when a list shows it.
_LAST_REVIEW = (select(func.max(_LATEST.id)).where(_LATEST.grant_id == Grant.id)
                .correlate(Grant).scalar_subquery())
_REVIEWED_ON = LastReview.reviewed_on.label("last_reviewed_on")
HELD_COLUMNS = (Grant.id, Grant.access_level, Grant.scope, Grant.status, Grant.tasks,
                Grant.approved_at, Grant.fulfilled_at, Grant.removed_at, _GRANTEE_NAME,
                Grantee.username.label("grantee_username"), _CENTRE_CODE,
                _approvers(Approver.username).label("approved_by"))
HELD_EXPORT_COLUMNS = HELD_COLUMNS + (_SYSTEM_CODE,)
# The grantee's latest acknowledgement of the lookup principles (P3), for the reviewer.
_ACKNOWLEDGED_AT = (select(func.max(Acknowledgement.acknowledged_at))
                    .where(Acknowledgement.employee_id == Grant.grantee_id)
                    .correlate(Grant).scalar_subquery().label("acknowledged_at"))
REVIEW_COLUMNS = (Grant.id, Grant.access_level, Grant.scope, Grant.tasks, Grant.frequency,
                  Grant.approved_at, Grant.review_due, _GRANTEE_NAME,
                  Grantee.username.label("grantee_username"),
                  Grantee.title.label("grantee_title"), _CENTRE_CODE, _SYSTEM_CODE,
                  _approvers(Approver.name).label("approved_by"), _REVIEWED_ON,
                  Reviewer.name.label("last_reviewer"),
                  LastReview.comment.label("last_comment"), _ACKNOWLEDGED_AT)

_APPROVALS = (select(func.count()).select_from(Decision)
              .where(Decision.request_id == AccessRequest.id, Decision.decision == "approve")
              .correlate(AccessRequest).scalar_subquery())

_REQUESTER_NAME = Requester.name.label("requester_name")
# The approver's queue, and the list of requests.
QUEUE_COLUMNS = (AccessRequest.id, AccessRequest.access_level, AccessRequest.scope,
                 AccessRequest.approvals_needed, AccessRequest.created_at, _GRANTEE_NAME,
                 _CENTRE_CODE, _SYSTEM_CODE, _APPROVALS.label("approvals"))
REQUEST_LIST_COLUMNS = (AccessRequest.id, AccessRequest.access_level, AccessRequest.scope,
                        AccessRequest.status, AccessRequest.created_at, _GRANTEE_NAME,
                        _REQUESTER_NAME, _SYSTEM_CODE)


class Statements(NamedTuple):
    """The statements of one list: its length, one page of it, and all of it."""
    count: Select
    page: Select
    every: Select

    def total(self, session: Session, values: dict) -> int:
        return _connection(session).execute(self.count, values).scalar() or 0

    def rows(self, session: Session, values: dict, page: int = 1,
             per_page: int | None = None) -> list:
        """One page of the list (all of it without `per_page`), as named tuples."""
        if per_page is None:
            return shown(session, self.every, values)
        return shown(session, self.page, {**values, "limit": per_page,
                                          "offset": (max(page, 1) - 1) * per_page})


def _statements(entity: Any, rows: Select, where, order_by: Iterable) -> Statements:
    every = rows.where(where).order_by(*order_by)
    # count(*), not count(id): an index without the id answers it alone on PostgreSQL.
    return Statements(select(func.count()).select_from(entity).where(where),
                      every.limit(LIMIT).offset(OFFSET), every)


def grant_statements(where, columns: tuple = GRANT_LIST_COLUMNS,
                     order_by: Iterable = (Grant.id,)) -> Statements:
    """Grants with the given columns of their grantee, the grantee's centre and the
    system."""
    rows = select(*columns).join(Grantee, Grantee.id == Grant.grantee_id)
    if _shows(columns, _CENTRE_CODE):
        rows = rows.join(GranteeCentre, GranteeCentre.id == Grantee.centre_id)
    if _shows(columns, _SYSTEM_CODE):
        rows = rows.join(System, System.id == Grant.system_id)
    if _shows(columns, _REVIEWED_ON):
        rows = (rows.outerjoin(LastReview, LastReview.id == _LAST_REVIEW)
                .outerjoin(Reviewer, Reviewer.id == LastReview.reviewer_id))
    return _statements(Grant, rows, where, order_by)


def request_statements(where, columns: tuple = REQUEST_LIST_COLUMNS,
                       order_by: Iterable = (AccessRequest.id,)) -> Statements:
    """Requests with the given columns of their grantee, the grantee's centre, the
    requester and the system."""
    rows = (select(*columns).join(Grantee, Grantee.id == AccessRequest.grantee_id)
            .join(System, System.id == AccessRequest.system_id))
    if _shows(columns, _CENTRE_CODE):
        rows = rows.join(GranteeCentre, GranteeCentre.id == Grantee.centre_id)
    if _shows(columns, _REQUESTER_NAME):
        rows = rows.join(Requester, Requester.id == AccessRequest.requester_id)
    return _statements(AccessRequest, rows, where, order_by)


def _shows(columns: tuple, column) -> bool:
    return any(shown is column for shown in columns)


def shown(session: Session, statement, values: dict | None = None) -> list:
    """The rows as named tuples: a template reads a tuple's fields several times faster
    than a result row's, and a page reads about a thousand of them."""
    result = _connection(session).execute(statement, values or {})
    shape = _tuple_class(tuple(result.keys()))
    return list(map(shape._make, result.all()))


def _connection(session: Session):
    """The session's connection, in its transaction. These statements read columns, not
    objects, so they skip the ORM's execution layer (about half a millisecond for a list
    statement); whatever the session holds unsaved is flushed first, as it would be."""
    session.flush()
    return session.connection()


@lru_cache(maxsize=64)
def _tuple_class(fields: tuple[str, ...]):
    return namedtuple("Shown", fields)
