"""Reviews (P5) with --as-of dates: due, overdue, keep, revoke, reminders and escalation."""
import json
import shutil
from datetime import datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa

from governance.config import PROJECT_ROOT
from governance.domain.rules import add_months
from governance.extensions import db
from governance.models import Acknowledgement, AuditEntry, Employee, OutboxMessage, Review
from governance.services import clock, policies, reviews
from governance.services import grants as grant_service
from governance.services.actor import Actor
from governance.services.errors import Conflict, InvalidInput
from governance.services.requests import DecisionRefused
from governance.web import day_text

from .workflow import active_grant, actor

TODAY = clock.today()


@pytest.fixture
def grant(app):
    return active_grant(TODAY)


def messages(kind: str) -> list[tuple[str, int]]:
    return [(m.recipient.username, m.object_id) for m in db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))]


def test_due_twelve_months_after_activation_and_overdue_the_day_after(grant):
    due = add_months(TODAY, 12)
    assert grant.review_due == due
    assert reviews.overdue(db.session, due) == []
    assert [o.grant.id for o in reviews.overdue(db.session, due + timedelta(days=1))] == [grant.id]
    finding = reviews.overdue(db.session, due + timedelta(days=1))[0].finding(
        due + timedelta(days=1))
    assert (finding.code, finding.passed) == ("REVIEW_OVERDUE", False)


def test_review_page_window_is_thirty_days(grant):
    due = grant.review_due
    assert reviews.queue_for(db.session, actor("tko"), due - timedelta(days=31)).count == 0
    queue = reviews.queue_for(db.session, actor("tko"), due - timedelta(days=30))
    assert [g.id for items in queue.by_grantee.values() for g in items] == [grant.id]


def test_keep_moves_the_due_date(grant):
    due = grant.review_due
    day = due - timedelta(days=10)
    row = reviews.review(db.session, actor("tko"), grant.id, "keep", "Behovet består", day)
    db.session.commit()
    assert (row.due_before, row.due_after) == (due, add_months(day, 12))
    assert grant.review_due == add_months(day, 12) and grant.status == "active"
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "grant.review_keep"


def test_revoke_ends_the_grant_and_creates_the_removal_task(grant):
    reviews.review(db.session, actor("kfi"), grant.id, "revoke", "Ikke længere behov",
                   grant.review_due)
    db.session.commit()
    assert grant.status == "revoked" and grant.end_reason.startswith("review:")
    _, to_remove = grant_service.tasks_for(db.session, actor("rha"))
    assert [g.id for g in to_remove] == [grant.id]
    with pytest.raises(Conflict):
        reviews.review(db.session, actor("tko"), grant.id, "keep", "x", grant.review_due)


@pytest.mark.parametrize("reviewer", ["ahn", "dpo", "admin", "mbe"])
def test_only_named_approvers_review(grant, reviewer):
    with pytest.raises(DecisionRefused) as refused:
        reviews.review(db.session, actor(reviewer), grant.id, "keep", "ok", TODAY)
    assert refused.value.status == 403  # without the approver role: no permission
    assert "NOT_NAMED_APPROVER" in [c.code for c in refused.value.checks]


def test_nobody_reviews_their_own_access(app):
    own = active_grant(TODAY, grantee="kfi", approvers=("tko",))
    with pytest.raises(DecisionRefused) as refused:
        reviews.review(db.session, actor("kfi"), own.id, "keep", "Jeg har brug for det", TODAY)
    assert refused.value.status == 422  # an approver, refused by P4
    assert "SELF_DECISION" in [c.code for c in refused.value.checks]
    assert own.id not in [g.id for items in reviews.queue_for(
        db.session, actor("kfi"), own.review_due).by_grantee.values() for g in items]


def test_keep_needs_a_comment(grant):
    with pytest.raises(InvalidInput):
        reviews.review(db.session, actor("kfi"), grant.id, "keep", "  ", TODAY)


def test_no_bulk_keep_for_write_access(app):
    read = active_grant(TODAY)
    write = active_grant(TODAY, user_admin="sni", system="ACADRE", access_level="write",
                         categories=("case_overview",), approvers=("kfi", "tko"),
                         write_justification="Taskforcen journaliserer sine egne kontrolsager")
    with pytest.raises(InvalidInput):
        reviews.bulk_keep(db.session, actor("tko"), [read.id, write.id], "Behov", TODAY)
    db.session.rollback()
    kept = reviews.bulk_keep(db.session, actor("tko"), [read.id], "Behov", TODAY)
    assert [r.grant_id for r in kept] == [read.id]


def test_the_queue_offers_only_read_access_in_bulk(app):
    """A grantee with two read accesses and one write access due: the two reads may be kept
    together; the write access is reviewed on its own. One access alone is no bulk."""
    reads = [active_grant(TODAY), active_grant(TODAY, user_admin="tbr", system="CPR",
                                               categories=("address",))]
    write = active_grant(TODAY, user_admin="sni", system="ACADRE", access_level="write",
                         categories=("case_overview",), approvers=("kfi", "tko"),
                         write_justification="Taskforcen journaliserer sine egne kontrolsager")
    alone = active_grant(TODAY, grantee="mbe")
    queue = reviews.queue_for(db.session, actor("tko"), reads[0].review_due)
    by_name = {person.username: ids for person, ids in queue.in_bulk.items()}
    assert by_name == {"ahn": sorted(g.id for g in reads)}
    assert write.id not in by_name["ahn"] and alone.id in [
        g.id for items in queue.by_grantee.values() for g in items]


def test_reminders_and_escalation_go_out_once_each(grant):
    due = grant.review_due
    system = Actor.system("test")

    def remind(day):
        report = reviews.remind(db.session, system, day)
        db.session.commit()
        return report.reminders, report.escalations

    assert remind(due - timedelta(days=31)) == (0, 0)
    assert remind(due - timedelta(days=30)) == (1, 0)       # the approver who approved
    assert remind(due - timedelta(days=30)) == (0, 0)       # idempotent
    assert remind(due - timedelta(days=20)) == (0, 0)
    assert remind(due - timedelta(days=14)) == (1, 0)
    assert remind(due - timedelta(days=3)) == (1, 0)
    assert remind(due) == (0, 0)
    assert remind(due + timedelta(days=6)) == (0, 0)
    assert remind(due + timedelta(days=7)) == (0, 2)        # the other approver and the DPO
    assert remind(due + timedelta(days=30)) == (0, 0)
    assert messages("review.reminder") == [("kfi", str(grant.id))] * 3
    assert sorted(messages("review.escalation")) == [("dpo", str(grant.id)),
                                                     ("tko", str(grant.id))]
    assert grant.status == "active"                           # flagged, not ended


def test_grantees_are_asked_to_acknowledge_again_before_the_year_lapses(grant):
    """P3: re-acknowledge yearly; a month before it lapses, and once when it has."""
    lapses = add_months(TODAY, 12)  # acknowledged today, when the access was activated
    system = Actor.system("test")

    def remind(day):
        report = reviews.remind(db.session, system, day)
        db.session.commit()
        return report.acknowledgement_reminders

    assert remind(lapses - timedelta(days=31)) == 0
    assert remind(lapses - timedelta(days=30)) == 1
    assert remind(lapses - timedelta(days=2)) == 0          # once per year, not daily
    assert remind(lapses) == 1                               # lapsed: told once more
    assert remind(lapses + timedelta(days=40)) == 0
    sent = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.kind == "acknowledgement.renew").order_by(OutboxMessage.id)).all()
    assert [m.recipient.username for m in sent] == [grant.grantee.username] * 2
    # The last day it counts is the day before it lapses.
    assert day_text(lapses - timedelta(days=1), "da") in sent[0].subject
    assert "princip 3" in sent[0].body
    assert "udløbet" in sent[1].subject
    summaries = db.session.scalars(sa.select(AuditEntry.summary).where(
        AuditEntry.action == "reviews.remind").order_by(AuditEntry.id)).all()
    assert sum(", 1 acknowledgement reminders," in s for s in summaries) == 2
    # Acknowledging again starts a new year, with its own reminders.
    renewed_on = lapses + timedelta(days=41)
    db.session.add(Acknowledgement(employee_id=grant.grantee_id, principles_sha256="0" * 64,
                                   acknowledged_at=datetime.combine(renewed_on, time(12),
                                                                    timezone.utc)))
    db.session.commit()
    assert remind(add_months(renewed_on, 12) - timedelta(days=31)) == 0
    assert remind(add_months(renewed_on, 12) - timedelta(days=30)) == 1


def test_only_active_grantees_with_access_are_asked_to_acknowledge_again(grant):
    lapses = add_months(TODAY, 12)
    grantee = grant.grantee.username
    grant_service.revoke(db.session, actor("kfi"), grant.id, "Behovet er ophørt")
    db.session.commit()
    assert reviews.remind(db.session, Actor.system("test"),
                          lapses).acknowledgement_reminders == 0
    assert grantee  # no access left, so nothing to acknowledge for


def test_a_late_first_run_sends_only_the_most_urgent_reminder(grant):
    report = reviews.remind(db.session, Actor.system("test"), grant.review_due - timedelta(days=5))
    assert report.reminders == 1
    assert db.session.scalar(sa.select(OutboxMessage.dedupe_key).where(
        OutboxMessage.kind == "review.reminder")).endswith(":14")


def test_keep_starts_a_new_reminder_cycle(grant):
    due = grant.review_due
    reviews.remind(db.session, Actor.system("test"), due - timedelta(days=3))
    reviews.review(db.session, actor("kfi"), grant.id, "keep", "Behov", due - timedelta(days=1))
    new_due = grant.review_due
    report = reviews.remind(db.session, Actor.system("test"), new_due - timedelta(days=3))
    assert report.reminders == 1


def test_policy_option_expires_long_overdue_grants(grant, tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", folder)
    path = folder / "eu-oest.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "expire_overdue_after_days: null", "expire_overdue_after_days: 30"), encoding="utf-8")
    policies.load_into_register(db.session, Actor.system("test"), folder, PROJECT_ROOT)
    db.session.commit()
    due = grant.review_due
    assert reviews.remind(db.session, Actor.system("test"), due + timedelta(days=30)).expired == []
    report = reviews.remind(db.session, Actor.system("test"), due + timedelta(days=31))
    db.session.commit()
    assert report.expired == [grant.id]
    assert (grant.status, grant.end_reason) == ("expired", "not re-assessed")
    _, to_remove = grant_service.tasks_for(db.session, actor("rha"))
    assert [g.id for g in to_remove] == [grant.id]


def test_reviews_cli(grant, app):
    runner = app.test_cli_runner()
    day = (grant.review_due + timedelta(days=7)).isoformat()
    result = runner.invoke(args=["reviews", "remind", "--as-of", day])
    assert result.exit_code == 0 and "0 reminders and 2 escalations" in result.output
    reminded = runner.invoke(args=["reviews", "remind", "--as-of",
                                   (grant.review_due - timedelta(days=30)).isoformat()])
    assert "1 reminder and 0 escalations queued" in reminded.output
    again = runner.invoke(args=["reviews", "remind", "--as-of", day])
    assert "0 reminders and 0 escalations" in again.output
    assert "Send them with 'notify send'" in result.output
    assert "nothing to send" in again.output and "notify send" not in again.output
    # The grantee's acknowledgement lapsed with the review date (both a year after today).
    assert "1 employee asked to acknowledge the lookup principles again" in result.output
    assert "acknowledge" not in again.output
    listed = runner.invoke(args=["reviews", "overdue", "--as-of", day])
    assert "1 overdue review on" in listed.output and "7 days overdue" in listed.output
    assert runner.invoke(args=["reviews", "overdue", "--as-of", "31-12-2026"]).exit_code == 1
    compact = runner.invoke(args=["reviews", "overdue", "--as-of", "20261231"])
    assert compact.exit_code == 1 and "YYYY-MM-DD" in compact.output
    assert "as it stood" not in listed.output     # a day ahead: a forecast
    past = runner.invoke(args=["reviews", "overdue", "--as-of", "2020-01-01"])
    assert "0 overdue reviews on 2020-01-01 (the register as it stood at the end of that " \
        "day)." in past.output
    far = runner.invoke(args=["reviews", "overdue", "--as-of", "9999-12-31"])
    assert far.exit_code == 1 and "1900-01-01 to 2999-12-31" in far.output


def test_review_rows_are_kept(grant):
    reviews.review(db.session, actor("kfi"), grant.id, "keep", "Behov", TODAY)
    reviews.review(db.session, actor("tko"), grant.id, "keep", "Stadig behov", TODAY)
    assert [r.reviewer.username for r in db.session.scalars(sa.select(Review))] == ["kfi", "tko"]


def test_review_queue_rows_show_who_approved_and_the_last_review(app):
    """The review page's rows carry the approvers and the previous review, read in the
    list's own statement."""
    grant = active_grant(TODAY, approvers=("kfi", "tko"), scope="detail",
                         write_justification="Sagerne kan kun vurderes ud fra de enkelte akter.")
    names = {e.username: e.name for e in db.session.scalars(sa.select(Employee))}
    day = grant.review_due - timedelta(days=5)
    reviews.review(db.session, actor("tko"), grant.id, "keep", "Behovet består", day)
    db.session.commit()
    queue = reviews.queue_for(db.session, actor("kfi"), grant.review_due - timedelta(days=5))
    [row] = [row for items in queue.by_grantee.values() for row in items]
    assert row.id == grant.id
    assert row.approved_by == f"{names['kfi']}, {names['tko']}"
    assert (row.last_reviewed_on, row.last_reviewer, row.last_comment) == \
        (day, names["tko"], "Behovet består")
    [person] = queue.by_grantee
    assert (person.username, person.name) == ("ahn", names["ahn"])


def test_review_page_shows_the_approvers_and_the_previous_review(app, client, login):
    grant = active_grant(TODAY)
    # Kept on a day a year less ten days ago: due again in ten days, so on today's page.
    reviews.review(db.session, actor("tko"), grant.id, "keep", "Stadig relevant <b>",
                   add_months(TODAY, -12) + timedelta(days=10))
    db.session.commit()
    kfi = db.session.scalar(sa.select(Employee).where(Employee.username == "kfi"))
    login("kfi")
    page = client.get("/reviews/").get_data(as_text=True)
    assert f'id="grant-{grant.id}"' in page
    assert kfi.name in page
    assert "Stadig relevant &lt;b&gt;" in page and "<b>" not in page.split("Stadig relevant")[1][:20]


def test_the_review_page_says_when_a_grantee_s_acknowledgement_has_lapsed(app, client, login):
    """P3 before P5's keep: the reviewer sees that the person has not confirmed the lookup
    principles this year (the acknowledgement lapsed), and for whom it still holds, nothing."""
    lapsed = active_grant(TODAY)                                      # ahn
    current = active_grant(TODAY, grantee="mbe", system="CVR", user_admin="ekj",
                           categories=("identity",))
    for grant in (lapsed, current):
        grant.review_due = TODAY + timedelta(days=5)
    given = TODAY - timedelta(days=400)
    db.session.execute(sa.update(Acknowledgement).where(
        Acknowledgement.employee_id == lapsed.grantee_id).values(
        acknowledged_at=datetime.combine(given, time(12), timezone.utc)))
    db.session.commit()
    login("kfi")
    page = client.get("/reviews/").get_data(as_text=True)
    warning = page.split('id="unacknowledged-ahn">', 1)[1].split("</p>", 1)[0]
    assert "er udløbet (princip 3)" in warning and day_text(given, "da") in warning
    assert 'id="unacknowledged-mbe"' not in page


def outbox(kind: str) -> list[tuple[str, int]]:
    return [(m.recipient.username, int(m.object_id)) for m in db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))]


def test_an_ended_access_still_in_the_system_is_chased_weekly_then_told_to_the_dpo(grant):
    """A leaver's access removed from the register but not from UIS: the user administrator
    is reminded a week on and each week after, the DPO told once at two weeks, and nothing
    more once the removal is recorded."""
    from .workflow import approved_grant
    never_created = approved_grant(grantee="mbe")        # ended before it existed: no task
    grant_service.revoke(db.session, actor("kfi"), grant.id, "Opgaven er afsluttet")
    grant_service.revoke(db.session, actor("kfi"), never_created.id, "Ikke længere behov")
    db.session.commit()

    def remind(days: int):
        report = reviews.remind(db.session, Actor.system(), TODAY + timedelta(days=days))
        db.session.commit()
        return report

    assert remind(6).removal_reminders == []
    assert remind(7).removal_reminders == [grant.id]
    assert outbox("grant.remove_reminder") == [("rha", grant.id)]
    assert remind(8).removal_reminders == []                  # once a week
    fortnight = remind(14)
    assert (fortnight.removal_reminders, fortnight.removal_escalations) == ([grant.id],
                                                                            [grant.id])
    assert outbox("grant.remove_escalation") == [("dpo", grant.id)]
    assert remind(21).removal_escalations == []               # the DPO is told once
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action ==
                                                          "reviews.remind")
                              .order_by(AuditEntry.id.desc()))
    assert json.loads(entry.details)["removal_reminders"] == [grant.id]
    body = db.session.scalars(sa.select(OutboxMessage.body).where(
        OutboxMessage.kind == "grant.remove_escalation")).one()
    assert "ophørte for 14 dage siden" in body and "Brugeradministrator: Rikke Hansen." in body
    grant_service.fulfil(db.session, actor("rha"), grant.id, today=TODAY + timedelta(days=22))
    db.session.commit()
    assert remind(28).removal_reminders == []


def test_reviews_remind_says_how_many_removals_it_chased(grant, app):
    grant_service.revoke(db.session, actor("kfi"), grant.id, "Opgaven er afsluttet")
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["reviews", "remind", "--as-of", (TODAY + timedelta(days=15)).isoformat()])
    assert result.exit_code == 0
    assert "removal of 1 ended access chased (1 told to the DPO)" in result.output


def test_an_access_expired_by_the_same_run_is_not_chased_as_long_ended(grant, app):
    """`reviews remind --as-of` a year on expires an overdue access (where the policy says
    so) and dates its end now: it is not at once 'ended a year ago' to its user admins."""
    from governance.services import policies as policy_service
    policy = policy_service.in_force(db.session).policies[grant.purpose]
    object.__setattr__(policy, "expire_overdue_after_days", 30)
    try:
        report = reviews.remind(db.session, Actor.system(), grant.review_due +
                                timedelta(days=60))
        db.session.commit()
    finally:
        object.__setattr__(policy, "expire_overdue_after_days", None)
    assert report.expired == [grant.id]
    assert report.removal_reminders == [] and report.removal_escalations == []


def test_mails_keep_names_and_codes_and_say_days_and_dates_as_the_pages_do(app):
    """Review reminders, removal tasks and new requests: names and codes as written, the
    frequency in Danish, one day as 'dag', dates as the pages write them."""
    grant = active_grant(TODAY)
    due = grant.review_due
    reviews.remind(db.session, Actor.system("test"), due - timedelta(days=1))
    grant_service.revoke(db.session, actor("kfi"), grant.id, "Opgaven er slut")
    db.session.commit()
    mails = {m.kind: m for m in db.session.scalars(sa.select(OutboxMessage))}
    reminder = mails["review.reminder"].body
    assert "Læseadgang til UIS (overordnede oplysninger) for Anne Holm Nielsen (ahn)" in reminder
    assert f"senest {day_text(due, 'da')} (om 1 dag)" in reminder
    assert "Læseadgang til UIS" in mails["grant.remove_task"].body
    assert "Hyppighed: ugentligt" in mails["request.new"].body
    assert "er godkendt af Klaus Fisker." in mails["request.decided"].body
    ended = mails["grant.ended"]
    assert ended.recipient.username == "ahn" and "Din læseadgang til UIS" in ended.body
    assert "Opgaven er slut" in ended.body


def test_an_empty_as_of_at_the_command_line_is_refused(app):
    result = app.test_cli_runner().invoke(args=["reviews", "overdue", "--as-of", ""])
    assert result.exit_code == 1 and "--as-of is empty" in result.output



def test_a_rejection_mail_names_who_rejected_not_who_approved(app):
    from governance.services import requests as request_service
    from .workflow import TASKS
    data = request_service.parse_request_input(
        {"grantee": "ahn", "system": "UIS", "scope": "detail", "frequency": "weekly",
         "tasks": TASKS, "data_categories": ["residence"],
         "write_justification": "Sagsbehandlingen kræver opholdssagens detaljer i hver sag"},
        actor("ahn"))
    req, _ = request_service.request_access(db.session, actor("ahn"), data)
    request_service.decide(db.session, actor("kfi"), req.id, "approve", "")
    request_service.decide(db.session, actor("tko"), req.id, "reject", "Ikke nødvendigt")
    db.session.commit()
    mail = db.session.scalar(sa.select(OutboxMessage).where(
        OutboxMessage.kind == "request.decided"))
    assert "er afvist af Tina Koudal." in mail.body and "Klaus Fisker" not in mail.body



def test_the_dpo_is_told_when_an_ended_access_has_no_administrator_left_to_remove_it(app):
    from governance.services import employees
    grant = active_grant(TODAY)
    grant_service.revoke(db.session, actor("kfi"), grant.id, "Opgaven er slut")
    employees.update_employee(db.session, actor("admin"), "rha", {"status": "left"})
    db.session.commit()
    reviews.remind(db.session, Actor.system("test"), TODAY + timedelta(days=14))
    db.session.commit()
    body = db.session.scalars(sa.select(OutboxMessage.body).where(
        OutboxMessage.kind == "grant.remove_escalation")).one()
    assert "UIS har ingen aktiv brugeradministrator" in body and "Rikke Hansen" not in body


def test_an_escalation_says_where_to_act(app):
    grant = active_grant(TODAY)
    reviews.remind(db.session, Actor.system("test"), grant.review_due + timedelta(days=7))
    db.session.commit()
    mails = {m.recipient.username: m.body for m in db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "review.escalation"))}
    assert "Revurdér adgangen under Revurderinger" in mails["tko"]
    assert "under Tilsyn i dataadgangsregistret" in mails["dpo"]


def test_a_live_register_is_not_reminded_on_another_day(app):
    app.config["APP_ENV"] = "production"
    runner = app.test_cli_runner()
    later = runner.invoke(args=["reviews", "remind", "--as-of",
                                (TODAY + timedelta(days=30)).isoformat()])
    assert later.exit_code == 1 and "is not today" in later.output
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
    assert runner.invoke(args=["reviews", "remind", "--as-of", TODAY.isoformat()]
                         ).exit_code == 0
    assert runner.invoke(args=["reviews", "overdue", "--as-of",
                               (TODAY + timedelta(days=30)).isoformat()]).exit_code == 0


def test_access_created_without_an_acknowledgement_is_chased(app):
    """Held in its system, not active in the register: the grantee is reminded after a
    week, the DPO told after a month, each once; acknowledging activates it."""
    from .workflow import approved_grant
    grant = approved_grant(grantee="sjo")
    grant_service.fulfil(db.session, actor("rha"), grant.id)
    db.session.commit()
    assert grant.awaits_acknowledgement
    today = clock.today()
    system = Actor.system("test")
    assert not reviews.remind(db.session, system, today + timedelta(days=6)) \
        .unacknowledged_reminders
    week = reviews.remind(db.session, system, today + timedelta(days=7))
    assert (week.unacknowledged_reminders, week.unacknowledged_escalations) == ([grant.id], [])
    assert messages("grant.acknowledge_reminder") == [("sjo", str(grant.id))]
    month = reviews.remind(db.session, system, today + timedelta(days=30))
    assert (month.unacknowledged_reminders, month.unacknowledged_escalations) == (
        [], [grant.id])
    assert messages("grant.acknowledge_escalation") == [("dpo", str(grant.id))]
    body = db.session.scalar(sa.select(OutboxMessage.body).where(
        OutboxMessage.kind == "grant.acknowledge_escalation"))
    assert "ikke kvitteret for principperne for opslag (princip 3)" in body
    again = reviews.remind(db.session, system, today + timedelta(days=31))
    assert not (again.unacknowledged_reminders or again.unacknowledged_escalations)
    result = app.test_cli_runner().invoke(args=["reviews", "remind", "--as-of",
                                                (today + timedelta(days=8)).isoformat()])
    assert "reminded to acknowledge" not in result.output
    grant_service.acknowledge(db.session, actor("sjo"))
    db.session.commit()
    assert grant.status == "active"


@pytest.mark.parametrize("name, genitive", [("Tina Koudal", "Tina Koudals"),
                                            ("Karina Corfitz", "Karina Corfitz'"),
                                            ("Hans Mathias", "Hans Mathias'"),
                                            ("Lars Knox", "Lars Knox'")])
def test_the_danish_genitive_of_a_name(name, genitive):
    from governance.services.notify import genitive as of
    assert of(name) == genitive


def test_an_approver_without_the_role_is_neither_reminded_nor_escalated_to(grant):
    """kfi approved the access and then lost the approver role: tko, who can review, is
    reminded instead, and the escalation goes to the DPO only."""
    from governance.models import EmployeeRole
    kfi = db.session.scalar(sa.select(Employee).filter_by(username="kfi"))
    kfi.role_rows = [EmployeeRole(role="requester")]
    db.session.commit()
    system = Actor.system("test")
    reviews.remind(db.session, system, grant.review_due - timedelta(days=30))
    assert [who for who, _ in messages("review.reminder")] == ["tko"]
    reviews.remind(db.session, system, grant.review_due + timedelta(days=7))
    assert "kfi" not in [who for who, _ in messages("review.escalation")]


def test_overdue_on_a_past_day_is_the_register_as_it_stood_then(app, api):
    """A review overdue last month that has been kept since, and one revoked since while
    overdue, were both overdue then: the list, the API and the status report agree."""
    from governance.services import reports
    kept = active_grant(TODAY)
    revoked = active_grant(TODAY, grantee="mbe", system="CVR", user_admin="ekj",
                           categories=("identity",))
    not_yet = active_grant(TODAY, grantee="lpe")
    for grant, due in ((kept, TODAY - timedelta(days=40)), (revoked, TODAY - timedelta(days=30)),
                       (not_yet, TODAY + timedelta(days=300))):
        grant.activated_at = datetime.combine(due - timedelta(days=365), time(12), timezone.utc)
        grant.review_due = due
    db.session.commit()
    day = TODAY - timedelta(days=10)
    overdue_then = [(o.grant.id, o.due) for o in reviews.overdue(db.session, day)]
    assert overdue_then == [(kept.id, kept.review_due), (revoked.id, revoked.review_due)]
    due = kept.review_due
    reviews.review(db.session, actor("kfi"), kept.id, "keep", "Behovet består", TODAY)
    grant_service.revoke(db.session, actor("kfi"), revoked.id, "Opgaven er afsluttet")
    db.session.commit()
    assert kept.review_due > TODAY and revoked.status == "revoked"
    assert [(o.grant.id, o.due) for o in reviews.overdue(db.session, day)] == overdue_then
    assert reviews.overdue(db.session, TODAY) == []
    status = reports.status_report(db.session, day - timedelta(days=30), day)
    assert [(g.id, d) for g, d in status.overdue] == overdue_then
    body = api("dpo").get(f"/api/v1/reviews/overdue?as_of={day.isoformat()}").get_json()
    assert body["total"] == 2
    first = body["items"][0]
    assert (first["id"], first["due_on_day"], first["days_overdue"]) == (
        kept.id, due.isoformat(), (day - due).days)
    assert first["finding"]["code"] == "REVIEW_OVERDUE"
    assert not_yet.id not in [o.grant.id for o in reviews.overdue(db.session, day)]
