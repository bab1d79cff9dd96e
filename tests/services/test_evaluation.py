"""Re-evaluation of every active grant: the findings the DPO acts on."""
from datetime import datetime, time, timedelta, timezone

import sqlalchemy as sa

from governance.extensions import db
from governance.models import Acknowledgement, Employee
from governance.services import clock, dashboard, evaluation
from governance.services.actor import Actor

from .workflow import active_grant

TODAY = clock.today()


def test_findings_for_overdue_lapsed_and_leavers(app):
    fine = active_grant(TODAY)
    overdue = active_grant(TODAY, grantee="mbe", system="CVR", user_admin="ekj",
                           categories=("identity",))
    overdue.review_due = TODAY - timedelta(days=1)
    db.session.commit()
    checked, findings = evaluation.reevaluate(db.session, TODAY)
    assert checked == 2
    assert [(f.grant_id, f.check.code) for f in findings] == [(overdue.id, "REVIEW_OVERDUE")]
    # A year on, every acknowledgement has lapsed and every review is overdue.
    later = TODAY + timedelta(days=400)
    _, findings = evaluation.reevaluate(db.session, later)
    codes = sorted((f.grant_id, f.check.code) for f in findings)
    assert codes == sorted([(fine.id, "NOT_ACKNOWLEDGED"), (fine.id, "REVIEW_OVERDUE"),
                            (overdue.id, "NOT_ACKNOWLEDGED"), (overdue.id, "REVIEW_OVERDUE")])


def test_a_leaver_s_finding_names_them_as_the_pages_do(app):
    """An active grant whose grantee has left (written around the HR feed, which would have
    ended it): the finding says who, by name and username."""
    grant = active_grant(TODAY)
    db.session.get(Employee, grant.grantee_id).status = "left"
    db.session.commit()
    _, findings = evaluation.reevaluate(db.session, TODAY)
    left = next(f.check for f in findings if f.check.code == "GRANTEE_INACTIVE")
    assert left.message_da.startswith("Anne Holm Nielsen (ahn) er fratrådt")


def test_on_a_past_day_the_acknowledgement_that_counted_then_is_the_one_judged(app):
    """P3 on a day gone by: an acknowledgement given since did not count then, and the
    one given before still did; the findings and the DPO's figure agree."""
    renewed = active_grant(TODAY)                              # ahn, acknowledged today
    db.session.add(Acknowledgement(employee_id=renewed.grantee_id, principles_sha256="0" * 64,
                                   acknowledged_at=datetime.combine(
                                       TODAY - timedelta(days=200), time(12), timezone.utc)))
    only_now = active_grant(TODAY, grantee="mbe", system="CVR", user_admin="ekj",
                            categories=("identity",))
    db.session.commit()
    then = TODAY - timedelta(days=100)
    _, findings = evaluation.reevaluate(db.session, then)
    assert [(f.grant_id, f.check.code) for f in findings] == [(only_now.id, "NOT_ACKNOWLEDGED")]
    assert [c.code for c in evaluation.findings_for(db.session, renewed, then)] == []
    assert [c.code for c in evaluation.findings_for(db.session, only_now, then)] == [
        "NOT_ACKNOWLEDGED"]
    dpo = Actor.of(db.session.scalar(sa.select(Employee).where(Employee.username == "dpo")))
    assert dashboard.build(db.session, dpo, then).counts["unacknowledged"] == 1
    assert dashboard.build(db.session, dpo, TODAY).counts["unacknowledged"] == 0
