"""Re-evaluation of every active grant: the findings the DPO acts on."""
from datetime import timedelta

from governance.extensions import db
from governance.services import clock, evaluation

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
    from governance.models import Employee
    grant = active_grant(TODAY)
    db.session.get(Employee, grant.grantee_id).status = "left"
    db.session.commit()
    _, findings = evaluation.reevaluate(db.session, TODAY)
    left = next(f.check for f in findings if f.check.code == "GRANTEE_INACTIVE")
    assert left.message_da.startswith("Anne Holm Nielsen (ahn) er fratrådt")
