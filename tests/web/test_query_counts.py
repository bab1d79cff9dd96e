"""The number of SQL statements a page issues does not grow with the rows it shows."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from governance.extensions import db
from governance.models import (AccessRequest, Acknowledgement, Decision, Employee, Grant,
                               Review, System)
from governance.services import clock

TODAY = clock.today()
NOW = datetime.now(timezone.utc)


def add_register(n: int) -> None:
    """n approved requests with active grants (some overdue), n pending requests."""
    # The people the pages are opened as come first, so they have rows even at n=10.
    people = sorted(db.session.scalars(sa.select(Employee).where(
        Employee.username.not_in(["kfi", "tko"]))).all(),
        key=lambda e: (e.username not in ("ahn", "dpo"), e.username))
    kfi = db.session.scalar(sa.select(Employee).where(Employee.username == "kfi"))
    uis = db.session.scalar(sa.select(System).where(System.code == "UIS"))
    rows = []
    for i in range(n):
        person = people[i % len(people)]
        common = dict(grantee=person, system=uis, access_level="read", scope="summary",
                      purpose="eu-oest", tasks="Kontrol af lovligt ophold i konkrete sager",
                      frequency="weekly", data_categories=["residence"])
        req = AccessRequest(requester=person, status="approved", approvals_needed=1,
                            decided_at=NOW, **common)
        req.decisions = [Decision(approver=kfi, decision="approve", comment="ok",
                                  decided_at=NOW)]
        grant = Grant(request=req, status="active", approved_at=NOW, fulfilled_at=NOW,
                      activated_at=NOW, review_due=TODAY + timedelta(days=(i * 7 % 40) - 10),
                      **common)
        grant.reviews = [Review(reviewer=kfi, decision="keep", comment="ok",
                                reviewed_on=TODAY - timedelta(days=300))]
        rows += [req, grant, AccessRequest(requester=person, status="pending",
                                           approvals_needed=1, **common),
                 Acknowledgement(employee=person, principles_sha256="x", acknowledged_at=NOW)]
    db.session.add_all(rows)
    db.session.commit()


def statements(app, client, path: str) -> int:
    """Statements of the second call (the first warms the policy memo)."""
    client.get(path)
    counted = []

    def count(*args):
        counted.append(1)
    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, path
    return len(counted)


PAGES = [
    ("dpo", "/dashboard/"),
    ("dpo", "/dashboard/list/active"),
    ("dpo", "/dashboard/list/overdue"),
    ("dpo", "/dashboard/list/due_30"),
    ("kfi", "/requests/"),
    ("kfi", "/reviews/"),
    ("dpo", "/grants/"),
    ("dpo", f"/grants/at?system=UIS&date={TODAY.isoformat()}"),
    ("dpo", "/employees/"),
    ("dpo", "/employees/?q=e&status=active"),
    ("dpo", "/centres/"),
    ("dpo", "/audit/"),
    ("dpo", "/reports/status"),
    ("ahn", "/"),
]


@pytest.mark.parametrize("username, path", PAGES)
def test_statements_do_not_grow_with_rows(app, client, login, username, path):
    login(username)
    add_register(10)
    small = statements(app, client, path)
    add_register(990)
    large = statements(app, client, path)
    assert large == small, f"{path}: {small} statements for 10 rows, {large} for 1000"
