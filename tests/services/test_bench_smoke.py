"""The benchmark's generator at a tiny scale: a consistent register and an intact chain.
(The benchmark itself, bench/run.py, is not part of the suite.)"""
from __future__ import annotations

import os
from collections import Counter
from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa

from bench import generate as gen
from governance import create_app
from governance.config import database_url
from governance.domain.rules import ExistingGrant, add_months, evaluate_grant
from governance.extensions import db
from governance.models import (AccessRequest, Acknowledgement, AuditEntry, AuditHead, Decision,
                               Employee, Grant, Review, System)
from governance.services import audit, clock, policies

SCALE = 0.002
CHEAP_HASHES = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 256}
PG_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def bench_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bench.sqlite'}"
        return
    parts = urlsplit(database_url(PG_URL))
    name = f"{parts.path.lstrip('/') or 'governance'}_bench_smoke_{os.getpid()}"
    url = urlunsplit(parts._replace(path=f"/{name}"))
    yield url
    admin = sa.create_engine(urlunsplit(parts._replace(path="/postgres")),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_generator_builds_a_consistent_register(bench_url):
    summary = gen.generate(bench_url, SCALE, reset=True, quiet=True, app_config=CHEAP_HASHES)
    plan = gen.Plan.at(SCALE)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(bench_url), **CHEAP_HASHES})
    with app.app_context():
        session = db.session
        count = lambda model: session.scalar(sa.select(sa.func.count()).select_from(model))

        # The chain verifies, holds exactly the target, and its time only moves forward.
        report = audit.verify_chain(session)
        assert report.ok, report.reason
        assert report.entries == plan.audit_entries == summary["counts"]["audit_entries"]
        assert session.get(AuditHead, 1).entries == report.entries
        stamps = session.scalars(sa.select(AuditEntry.created_at).order_by(AuditEntry.id)).all()
        assert all(a < b for a, b in zip(stamps, stamps[1:]))
        assert stamps[-1] < datetime.now(timezone.utc)

        # The counts add up.
        assert count(Grant) == plan.grants
        requests = session.scalars(sa.select(AccessRequest)).all()
        statuses = Counter(r.status for r in requests)
        assert statuses == {"approved": plan.grants, "pending": plan.pending,
                            "rejected": plan.rejected, "withdrawn": plan.withdrawn}
        assert count(System) == 7 + plan.systems
        assert count(Employee) == 24 + plan.employees

        # Decisions fit the requests: approved ones have all their approvals and a grant.
        grant_of = dict(session.execute(sa.select(Grant.request_id, Grant.id)).all())
        decisions = Counter((d.request_id, d.decision) for d in session.scalars(
            sa.select(Decision)))
        for r in requests:
            approvals = decisions[(r.id, "approve")]
            if r.status == "approved":
                assert approvals == r.approvals_needed and r.id in grant_of
            elif r.status == "rejected":
                assert decisions[(r.id, "reject")] == 1 and r.id not in grant_of
            else:
                assert approvals < r.approvals_needed and r.id not in grant_of

        # Grants are in valid states, and each review date follows from the last review.
        last_keep = {}
        for review in session.scalars(sa.select(Review).order_by(Review.id)):
            if review.decision == "keep":
                last_keep[review.grant_id] = review.reviewed_on
        acknowledged = dict(session.execute(
            sa.select(Acknowledgement.employee_id, sa.func.min(Acknowledgement.acknowledged_at))
            .group_by(Acknowledgement.employee_id)).all())
        acknowledged_last = dict(session.execute(
            sa.select(Acknowledgement.employee_id, sa.func.max(Acknowledgement.acknowledged_at))
            .group_by(Acknowledgement.employee_id)).all())
        for g in session.scalars(sa.select(Grant)):
            if g.removed_at:
                assert g.fulfilled_at and g.ended_at and g.removed_at > g.ended_at
            if g.status == "active":
                assert g.fulfilled_at and g.activated_at >= g.fulfilled_at and not g.ended_at
                assert acknowledged[g.grantee_id] <= g.activated_at
                since = last_keep.get(g.id) or clock.local_date(g.activated_at)
                assert g.review_due == add_months(since, 12)
            elif g.status == "revoked":
                assert g.ended_at and g.end_reason and g.ended_by_id
            else:
                assert g.status == "approved" and g.activated_at is None

        # Leavers hold nothing, and what they held was revoked as "left".
        left = session.scalars(sa.select(Employee.id).where(Employee.status == "left")).all()
        assert len(left) == plan.leavers
        assert not session.scalar(sa.select(sa.func.count(Grant.id)).where(
            Grant.grantee_id.in_(left), Grant.status.in_(("approved", "active"))))

        # The generated policy is in force, and every active grant still passes its rules
        # (the domain's reference evaluation): the only findings are overdue reviews and
        # lapsed acknowledgements.
        in_force = policies.in_force(session).policies
        assert set(in_force["bench"].systems) == set(
            session.scalars(sa.select(System.code).where(System.code.like("BS%"))))
        active = session.scalars(sa.select(Grant).where(Grant.status == "active")).all()
        assert len(active) == summary["grant_statuses"]["active"]
        today = clock.today()
        found = set()
        for g in active:
            existing = ExistingGrant(g.grantee.username, g.grantee.active, g.system.code,
                                     g.access_level, g.scope, tuple(g.data_categories),
                                     g.review_due, clock.local_date(acknowledged_last[
                                         g.grantee_id]))
            found |= {c.code for c in evaluate_grant(existing, in_force[g.purpose], today)
                      if not c.passed}
        assert found <= {"REVIEW_OVERDUE", "NOT_ACKNOWLEDGED"}
        session.remove()
        db.engine.dispose()


def test_benchmark_reports_every_figure_with_its_target(tmp_path):
    """bench/run.py end to end on a tiny register: each figure with its target and verdict,
    and the hand-written SQL computing what the pages show. (Not the API load: it needs
    more grantees without access than a tiny register has.)"""
    from bench import run
    out = tmp_path / "figures.json"
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    assert run.main(["--database-url", url, "--generate", "--scale", str(SCALE), "--runs", "3",
                     "--only", "pages", "reevaluate", "verify", "--json", str(out)]) == 0
    figures = __import__("json").loads(out.read_text(encoding="utf-8"))
    assert all(set(f) >= {"name", "value", "unit", "target", "met"} for f in figures)
    assert all(isinstance(f["met"], bool) for f in figures)
    names = {f["name"] for f in figures}
    for page in ("dashboard", "overdue list", "approver queue", "reviews", "point in time"):
        assert {f"sqlite: {page} page median", f"sqlite: {page} page / bare SQL"} <= names
    assert {"sqlite: generation", "sqlite: re-evaluation of every active grant",
            "sqlite: audit verify", "all: whole run"} <= names
    assert not [f["note"] for f in figures if "MISMATCH" in f["note"] or "failed" in f["note"]]
