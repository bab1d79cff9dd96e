"""The workflow in the web app, and its buttons: shown to those allowed, refused to others."""
import re
import shutil

import pytest
import sqlalchemy as sa

from governance.config import PROJECT_ROOT
from governance.extensions import db
from governance.models import AccessRequest, AuditEntry, Employee, Grant
from governance.services import clock, policies, seeding
from governance.services import grants as grant_service
from governance.services import requests as request_service
from governance.services.actor import Actor
from governance.services.audit import verify_chain
from governance.web import day_text

from ..services.workflow import active_grant

TASKS = "Kontrol af lovligt ophold for EU-borgere i konkrete sager om kontanthjælp"
FORM = {"grantee": "ahn", "system": "UIS", "access_level": "read", "scope": "summary",
        "purpose": "eu-oest", "tasks": TASKS, "frequency": "weekly",
        "data_categories": ["residence"]}


def actor(username: str) -> Actor:
    return Actor.of(db.session.scalar(sa.select(Employee).where(Employee.username == username)))


@pytest.fixture
def pending_request(app) -> int:
    data = request_service.parse_request_input(dict(FORM), actor("ahn"))
    req, _ = request_service.request_access(db.session, actor("ahn"), data)
    db.session.commit()
    return req.id


@pytest.fixture
def approved_grant(app, pending_request) -> int:
    request_service.decide(db.session, actor("kfi"), pending_request, "approve", "")
    db.session.commit()
    return db.session.scalar(sa.select(Grant.id).where(Grant.request_id == pending_request))


def test_a_link_to_the_form_for_an_unknown_system_says_so(client, login):
    login("ahn")
    page = client.get("/requests/new?system=NOPE").get_data(as_text=True)
    assert "Registret har intet system &#39;NOPE&#39;; vælg et nedenfor." in page
    chosen = client.get("/requests/new?system=uis").get_data(as_text=True)  # any case
    assert "vælg et nedenfor" not in chosen and 'id="chosen-system">UIS – ' in chosen


def test_request_form_shows_rule_feedback_and_approvers_before_sending(client, login):
    login("ahn")
    page = client.get("/requests/new?system=UIS").get_data(as_text=True)
    assert 'value="read" checked' in page or 'checked value="read"' in page or \
        ('value="read"' in page and "checked" in page)
    response = client.post("/requests/new?system=UIS", data={**FORM, "action": "check"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-code="NEED_UNDOCUMENTED"' in text
    assert "Klaus Fisker" in text and "Tina Koudal" in text
    assert db.session.scalar(sa.select(sa.func.count(AccessRequest.id))) == 0


def test_refused_request_in_the_form_names_principle_and_contact(client, login):
    login("ahn")
    response = client.post("/requests/new?system=ACADRE", data={
        **FORM, "system": "ACADRE", "scope": "detail", "frequency": "once",
        "data_categories": ["family", "health"], "action": "submit"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    for code in ("NEED_NOT_RECURRING", "WRITE_UNJUSTIFIED", "AREA_NOT_GRANTABLE",
                 "SPECIAL_CATEGORY"):
        assert f'<li class="refused" data-code="{code}"' in text
    assert "Helle Vinther" in text
    assert "Anmodningen blev ikke sendt" in text
    assert db.session.scalar(sa.select(sa.func.count(AccessRequest.id))) == 0
    refused = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert "request.refused" in refused


def test_a_request_no_approver_may_decide_is_refused_in_the_form_and_keeps_the_input(
        client, login):
    login("tko")
    response = client.post("/requests/new?system=UIS",
                           data={**FORM, "grantee": "kfi", "action": "submit"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<li class="refused" data-code="SELF_DECISION"' in text
    assert TASKS in text
    assert db.session.scalar(sa.select(sa.func.count(AccessRequest.id))) == 0


def test_request_submitted_from_the_form(client, login):
    login("ahn")
    response = client.post("/requests/new?system=UIS", data={**FORM, "action": "submit"})
    assert response.status_code == 302
    req = db.session.scalars(sa.select(AccessRequest)).one()
    assert response.location == f"/requests/{req.id}"
    assert (req.grantee.username, req.status) == ("ahn", "pending")


def test_category_the_system_does_not_hold_is_a_field_error(client, login):
    login("ahn")
    response = client.post("/requests/new?system=UIS", data={
        **FORM, "data_categories": ["income"], "action": "submit"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(AccessRequest.id))) == 0


@pytest.mark.parametrize("username, shown", [("kfi", True), ("tko", True), ("ahn", False),
                                             ("dpo", False), ("rha", False)])
def test_decide_buttons_only_for_named_approvers(client, login, pending_request, username,
                                                 shown):
    login(username)
    page = client.get(f"/requests/{pending_request}").get_data(as_text=True)
    assert ('name="decision" value="approve"' in page) is shown
    response = client.post(f"/requests/{pending_request}/decision",
                           data={"decision": "approve", "comment": "ok"})
    assert response.status_code == (302 if shown else 403)


def test_approver_does_not_see_a_decide_button_on_own_request(client, login):
    data = request_service.parse_request_input(dict(FORM, grantee="kfi"), actor("kfi"))
    req, _ = request_service.request_access(db.session, actor("kfi"), data)
    db.session.commit()
    login("kfi")
    page = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert 'name="decision"' not in page
    refused = client.post(f"/requests/{req.id}/decision", data={"decision": "approve"})
    assert refused.status_code == 422  # refused by P4, not for want of a role
    assert "Du kan ikke selv afgøre en anmodning" in refused.get_data(as_text=True)


def test_reject_without_comment_is_400_and_writes_nothing(client, login, pending_request):
    login("kfi")
    response = client.post(f"/requests/{pending_request}/decision",
                           data={"decision": "reject", "comment": ""})
    assert response.status_code == 400
    assert db.session.get(AccessRequest, pending_request).status == "pending"


def test_approver_queue_lists_pending(client, login, pending_request):
    login("tko")
    page = client.get("/requests/").get_data(as_text=True)
    assert f'href="/requests/{pending_request}"' in page


@pytest.mark.parametrize("username, allowed", [("rha", True), ("tbr", False),
                                               ("kfi", False), ("ahn", False)])
def test_only_the_systems_user_admin_records_fulfilment(client, login, approved_grant,
                                                        username, allowed):
    login(username)
    page = client.get(f"/grants/{approved_grant}")
    if page.status_code == 200:
        assert ("Registrér som oprettet" in page.get_data(as_text=True)
                or "Record as created" in page.get_data(as_text=True)) is allowed
    response = client.post(f"/grants/{approved_grant}/fulfil")
    assert response.status_code == (302 if allowed else 403)


@pytest.mark.parametrize("username, allowed", [("kfi", True), ("admin", True), ("ahn", False),
                                               ("dpo", False), ("rha", False)])
def test_revoke_only_by_approver_or_admin(client, login, approved_grant, username, allowed):
    login(username)
    response = client.post(f"/grants/{approved_grant}/revoke", data={"reason": "Ikke behov"})
    assert response.status_code == (302 if allowed else 403)
    assert db.session.get(Grant, approved_grant).status == ("revoked" if allowed else "approved")


@pytest.mark.parametrize("path, allowed", [
    ("/grants/tasks", {"rha"}), ("/grants/", {"kfi", "rha", "dpo", "admin"}),
    ("/audit/", {"dpo", "admin"}), ("/audit/verify", {"dpo", "admin"}),
    ("/requests/", {"ahn", "kfi", "rha", "dpo", "admin"}),
    ("/requests/new", {"ahn", "kfi", "rha"}),
])
@pytest.mark.parametrize("username", ["ahn", "kfi", "rha", "dpo", "admin"])
def test_workflow_pages_by_role(client, login, path, allowed, username):
    login(username)
    assert client.get(path).status_code == (200 if username in allowed else 403)


@pytest.mark.parametrize("username, status", [("ahn", 200), ("mbe", 403), ("kfi", 200),
                                              ("dpo", 200), ("rha", 200), ("tbr", 403)])
def test_object_level_access_to_a_grant(client, login, approved_grant, username, status):
    login(username)
    assert client.get(f"/grants/{approved_grant}").status_code == status


def test_someone_elses_request_is_403(client, login, pending_request):
    login("mbe")
    assert client.get(f"/requests/{pending_request}").status_code == 403


def test_acknowledgement_activates_a_fulfilled_grant(client, login, approved_grant):
    grant_service.fulfil(db.session, actor("rha"), approved_grant)
    db.session.commit()
    login("ahn")
    page = client.get("/principles/").get_data(as_text=True)
    assert 'action="/principles/acknowledge"' in page
    assert client.post("/principles/acknowledge").status_code == 302
    db.session.expire_all()
    grant = db.session.get(Grant, approved_grant)
    assert grant.status == "active" and grant.review_due is not None
    assert 'action="/principles/acknowledge"' not in client.get("/principles/").get_data(
        as_text=True)


def test_admin_marks_a_leaver_from_the_employee_page(client, login, approved_grant):
    login("kfi")
    assert 'action="/employees/ahn/leave"' not in client.get("/employees/ahn").get_data(
        as_text=True)
    assert client.post("/employees/ahn/leave").status_code == 403
    login("admin")
    assert 'action="/employees/ahn/leave"' in client.get("/employees/ahn").get_data(
        as_text=True)
    page = client.get("/employees/ahn").get_data(as_text=True)
    assert '<input type="checkbox" name="confirm" value="yes" required>' in page
    unconfirmed = client.post("/employees/ahn/leave", follow_redirects=True)
    assert "Nothing was changed" in unconfirmed.get_data(as_text=True) or \
        "Intet blev ændret" in unconfirmed.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Grant, approved_grant).status == "approved"
    assert client.post("/employees/ahn/leave", data={"confirm": "yes"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Grant, approved_grant).end_reason == "left"


def test_a_user_admin_sees_a_persons_access_to_other_systems_unlinked(client, login,
                                                                       approved_grant):
    login("tbr")   # CPR's user administrator; the grant is to UIS
    page = client.get("/employees/ahn").get_data(as_text=True)
    assert f'href="/grants/{approved_grant}"' not in page and "UIS" in page
    login("rha")   # UIS's
    assert f'href="/grants/{approved_grant}"' in client.get("/employees/ahn").get_data(
        as_text=True)


def test_whole_journey_in_the_web_app(client, login):
    login("ahn")
    client.post("/requests/new?system=UIS", data={**FORM, "action": "submit"})
    request_id = db.session.scalar(sa.select(AccessRequest.id))
    login("tko")
    client.post(f"/requests/{request_id}/decision", data={"decision": "approve",
                                                           "comment": "Relevant"})
    grant_id = db.session.scalar(sa.select(Grant.id))
    login("rha")
    assert f'action="/grants/{grant_id}/fulfil"' in client.get("/grants/tasks").get_data(
        as_text=True)
    client.post(f"/grants/{grant_id}/fulfil", data={"back": "tasks"})
    login("ahn")
    client.post("/principles/acknowledge")
    login("kfi")
    client.post(f"/grants/{grant_id}/revoke", data={"reason": "Opgaven er afsluttet"})
    login("rha")
    assert f'action="/grants/{grant_id}/fulfil"' in client.get("/grants/tasks").get_data(
        as_text=True)
    client.post(f"/grants/{grant_id}/fulfil", data={"back": "tasks"})
    db.session.expire_all()
    grant = db.session.get(Grant, grant_id)
    assert grant.status == "revoked" and grant.activated_at and grant.removed_at
    login("dpo")
    page = client.get(f"/audit/?object_type=grant&object_id={grant_id}").get_data(as_text=True)
    for action in ("grant.create", "grant.fulfil", "grant.activate", "grant.revoke",
                   "grant.remove"):
        assert f"<code>{action}</code>" in page
    verified = client.get("/audit/verify").get_data(as_text=True)
    report = verify_chain(db.session)
    assert 'id="chain-ok"' in verified and report.ok
    # The line to keep outside the register, and a check against it later.
    assert f'<code id="last-entry">{report.entries}:{report.last_hash}</code>' in verified
    assert "intet op til den er skrevet om" in client.get(
        f"/audit/verify?anchor={report.entries}:{report.last_hash[:16]}").get_data(as_text=True)
    changed = client.get(f"/audit/verify?anchor=1:{'f' * 64}").get_data(as_text=True)
    assert "brudt ved hændelse 1: hændelse 1 har ikke længere den hash" in changed
    typo = client.get("/audit/verify?anchor=12-abc")
    assert typo.status_code == 400 and "NUMMER:HASH" in typo.get_data(as_text=True)
    assert 'value="12-abc"' in typo.get_data(as_text=True)
    # Every kind of entry the journey wrote is offered, with its words, by the filter.
    from governance.services.audit_trail import ACTIONS
    written = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert written <= set(ACTIONS), written - set(ACTIONS)
    page = client.get("/audit/").get_data(as_text=True)
    assert '<option value="grant.fulfil" label="' in page


def test_review_page_keeps_several_read_accesses_with_one_comment(client, login):
    """The bulk form names only the person's read accesses, and keeping them moves each
    one's due date; the write access stays for its own review."""
    today = clock.today()
    reads = [active_grant(today), active_grant(today, user_admin="tbr", system="CPR",
                                               categories=("address",))]
    write = active_grant(today, user_admin="sni", system="ACADRE", access_level="write",
                         categories=("case_overview",), approvers=("kfi", "tko"),
                         write_justification="Taskforcen journaliserer sine egne kontrolsager")
    login("tko")
    assert 'id="grant-' not in client.get("/reviews/").get_data(as_text=True)  # a year away
    for grant in (*reads, write):
        grant.review_due = today
    db.session.commit()
    page = client.get("/reviews/").get_data(as_text=True)
    bulk = page[page.index('action="/reviews/keep"'):]
    bulk = bulk[:bulk.index("</form>")]
    assert sorted(map(int, re.findall(r'name="grant_id" value="(\d+)"', bulk))) == \
        sorted(g.id for g in reads)
    response = client.post("/reviews/keep", data={"grant_id": [g.id for g in reads],
                                                  "comment": "Behovet består"})
    assert response.status_code == 302
    db.session.expire_all()
    assert [db.session.get(Grant, g.id).review_due > today for g in reads] == [True, True]
    assert db.session.get(Grant, write.id).review_due == today


def _queue_ids(page: str) -> list[int]:
    queue = page.split('<h2 id="queue">', 1)[1].split("<h2>", 1)[0]
    return [int(i) for i in re.findall(r'<td><a href="/requests/(\d+)">', queue)]


def test_the_approvers_queue_pages_through_every_request_waiting(client, login):
    from governance.web import PER_PAGE

    from .test_query_counts import add_register
    login("kfi")
    add_register(PER_PAGE + 30)
    first = client.get("/requests/").get_data(as_text=True)
    waiting = int(re.search(r'<h2 id="queue">[^(]*\((\d+)\)', first).group(1))
    assert waiting == PER_PAGE + 30
    assert "Ældste først, 100 pr. side." in first
    assert 'aria-label="Sider med anmodninger, der venter på dig"' in first
    assert 'href="/requests/?queue_page=2"' in first
    # The second page of the queue holds the rest; the other list's pager keeps it there.
    second = client.get("/requests/?queue_page=2").get_data(as_text=True)
    ids = _queue_ids(first) + _queue_ids(second)
    assert len(_queue_ids(first)) == PER_PAGE and len(ids) == len(set(ids)) == waiting
    assert ids == sorted(ids)
    assert 'href="/requests/?queue_page=2&amp;page=2"' in second
    assert 'href="/requests/?queue_page=1"' in second
    both = client.get("/requests/?queue_page=2&page=2&status=pending").get_data(as_text=True)
    assert 'href="/requests/?status=pending&amp;page=2&amp;queue_page=1"' in both
    assert '<input type="hidden" name="queue_page" value="2">' in both


def test_a_queue_page_past_the_limit_is_a_400_naming_the_parameter(client, login):
    login("kfi")
    response = client.get("/requests/?queue_page=1000001")
    assert response.status_code == 400
    assert "queue_page" in response.get_data(as_text=True)


def test_the_audit_trail_pages_past_its_first_hundred_entries(client, login):
    from governance.services import audit
    from governance.web.audit import PER_PAGE
    for i in range(PER_PAGE + 20):
        audit.record(db.session, actor="hr-feed", action="employee.update",
                     object_type="employee", object_id=f"x{i}", summary=f"Change {i}")
    db.session.commit()
    login("dpo")
    first = client.get("/audit/")
    assert first.status_code == 200
    assert 'href="/audit/?page=2"' in first.get_data(as_text=True)
    filtered = client.get("/audit/?actor=hr-feed&action=&page=2")
    assert filtered.status_code == 200
    text = filtered.get_data(as_text=True)
    assert text.count('<td>hr-feed</td>') == 20
    assert 'href="/audit/?actor=hr-feed&amp;page=1"' in text


@pytest.mark.parametrize("username, shown", [("dpo", True), ("kfi", True), ("admin", True),
                                             ("rha", False)])
def test_the_register_links_to_who_had_access_on_a_day_for_those_who_may_see_it(
        client, login, username, shown):
    login(username)
    page = client.get("/grants/").get_data(as_text=True)
    assert ('id="point-in-time"' in page) is shown
    if shown:
        assert 'href="/grants/at"' in page


def test_my_overview_asks_me_to_acknowledge_when_an_access_waits_for_it(client, login,
                                                                        approved_grant):
    login("ahn")
    assert 'id="acknowledge-prompt"' not in client.get("/").get_data(as_text=True)
    grant_service.fulfil(db.session, actor("rha"), approved_grant)
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert 'id="acknowledge-prompt"' in page
    assert "1 adgang er oprettet i systemet" in page
    assert client.post("/principles/acknowledge").status_code == 302
    assert 'id="acknowledge-prompt"' not in client.get("/").get_data(as_text=True)


def test_the_grant_page_shows_its_reviews_and_how_it_ended_in_words(client, login,
                                                                     approved_grant):
    from governance.services import reviews as review_service
    grant_service.fulfil(db.session, actor("rha"), approved_grant)
    grant_service.acknowledge(db.session, actor("ahn"))
    db.session.commit()
    login("dpo")
    assert "Endnu ikke revurderet." in client.get(f"/grants/{approved_grant}").get_data(
        as_text=True)
    review_service.review(db.session, actor("tko"), approved_grant, "keep", "Fortsat behov")
    review_service.review(db.session, actor("kfi"), approved_grant, "revoke",
                          "Opgaven er afsluttet")
    db.session.commit()
    page = client.get(f"/grants/{approved_grant}").get_data(as_text=True)
    table = page.split('<table id="reviews">', 1)[1].split("</table>", 1)[0]
    assert table.index("Opgaven er afsluttet") < table.index("Fortsat behov")  # newest first
    assert "Tina Koudal (tko)" in table and "Fastholdt" in table and "Tilbagekaldt" in table
    assert "ved revurdering: Opgaven er afsluttet" in page and "review:" not in page
    assert "Næste revurdering" not in page.split('<h2>', 1)[0]   # it has ended


def test_a_leavers_ended_access_says_so_in_words(client, login, approved_grant):
    from governance.services import employees
    employees.update_employee(db.session, actor("admin"), "ahn", {"status": "left"})
    db.session.commit()
    login("dpo")
    page = client.get(f"/grants/{approved_grant}").get_data(as_text=True)
    assert "medarbejderen er fratrådt" in page


def test_a_withdrawn_request_says_when_and_why(client, login, pending_request):
    from governance.services import employees
    request_service.withdraw(db.session, actor("ahn"), pending_request)
    data = request_service.parse_request_input(dict(FORM, grantee="mbe"), actor("ahn"))
    second, _ = request_service.request_access(db.session, actor("ahn"), data)
    employees.update_employee(db.session, actor("admin"), "mbe", {"status": "left"})
    db.session.commit()
    login("dpo")
    by_hand = client.get(f"/requests/{pending_request}").get_data(as_text=True)
    assert 'id="withdrawn"' in by_hand and "af ahn" in by_hand
    left = client.get(f"/requests/{second.id}").get_data(as_text=True)
    assert "fordi medarbejderen er fratrådt" in left


def test_withdrawing_a_request_asks_for_confirmation(client, login, pending_request):
    login("ahn")
    page = client.get(f"/requests/{pending_request}").get_data(as_text=True)
    assert 'name="confirm" value="yes" required' in page
    unticked = client.post(f"/requests/{pending_request}/withdraw", follow_redirects=True)
    assert "Intet blev ændret" in unticked.get_data(as_text=True)
    assert db.session.get(AccessRequest, pending_request).status == "pending"
    client.post(f"/requests/{pending_request}/withdraw", data={"confirm": "yes"})
    db.session.expire_all()
    assert db.session.get(AccessRequest, pending_request).status == "withdrawn"


def test_a_filtered_register_says_nothing_matches_rather_than_nothing_granted(
        client, login, approved_grant):
    login("dpo")
    unfiltered = client.get("/grants/").get_data(as_text=True)
    assert 'id="no-grants"' not in unfiltered
    filtered = client.get("/grants/?status=revoked").get_data(as_text=True)
    assert "Ingen adgange passer til filteret." in filtered
    assert "Der er ikke bevilget nogen adgang." not in filtered
    # A status the register does not know is said, not quietly shown as every access.
    unknown = client.get("/grants/?status=aktiv")
    assert unknown.status_code == 400
    assert "&#39;status&#39; skal være approved, active, revoked eller expired" in \
        unknown.get_data(as_text=True)


def test_the_register_shows_no_next_review_on_ended_access(client, login, approved_grant):
    grant_service.revoke(db.session, actor("kfi"), approved_grant, "Behovet er ophørt")
    db.session.commit()
    grant = db.session.get(Grant, approved_grant)
    grant.review_due = clock.today()  # as an access revoked after activation keeps it
    db.session.commit()
    login("dpo")
    page = client.get("/grants/?status=revoked").get_data(as_text=True)
    assert clock.today().isoformat() not in page.split("<tbody>")[1]


def test_new_principles_are_said_and_may_be_acknowledged_at_once(client, login, app,
                                                                 tmp_path):
    """A new version of principles.yaml: the acknowledgement still counts for its year,
    the principles page says they changed and offers the acknowledgement of the new ones;
    given, the note goes."""
    import shutil
    from governance.config import PROJECT_ROOT
    grant = active_grant(clock.today())
    login(grant.grantee.username)
    page = client.get("/principles/").get_data(as_text=True)
    assert 'id="principles-changed"' not in page
    assert 'action="/principles/acknowledge"' not in page
    folder = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", folder)
    path = folder / "principles.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# revised\n", encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["policy", "load", str(folder)]).exit_code == 0
    page = client.get("/principles/").get_data(as_text=True)
    assert 'id="principles-changed"' in page
    assert 'action="/principles/acknowledge"' in page
    client.post("/principles/acknowledge", data={})
    page = client.get("/principles/").get_data(as_text=True)
    assert 'id="principles-changed"' not in page
    db.session.expire_all()
    assert db.session.get(Grant, grant.id).status == "active"


def test_the_yearly_acknowledgement_is_renewed_from_the_overview_and_principles(client,
                                                                                 login):
    from datetime import datetime, time, timedelta, timezone

    from governance.domain.rules import add_months
    from governance.models import Acknowledgement
    grant = active_grant(clock.today())
    login(grant.grantee.username)

    def acknowledged(day):
        for ack in db.session.scalars(sa.select(Acknowledgement).filter_by(
                employee_id=grant.grantee_id)):
            ack.acknowledged_at = datetime.combine(day, time(12), timezone.utc)
        db.session.commit()

    overview = client.get("/").get_data(as_text=True)
    assert 'id="renew-prompt"' not in overview
    principles = client.get("/principles/").get_data(as_text=True)
    assert 'action="/principles/acknowledge"' not in principles  # current for a year yet
    # A month before the year runs out: asked to renew, and able to.
    given = add_months(clock.today(), -12) + timedelta(days=20)
    acknowledged(given)
    lapses = add_months(given, 12)
    overview = client.get("/").get_data(as_text=True)
    assert 'id="renew-prompt"' in overview and day_text(lapses, "da") in overview
    assert 'action="/principles/acknowledge"' in client.get("/principles/").get_data(
        as_text=True)
    # Lapsed: said so.
    acknowledged(add_months(clock.today(), -13))
    overview = client.get("/").get_data(as_text=True)
    assert "udløb" in overview.split('id="renew-prompt"')[1].split("</p>")[0]
    client.post("/principles/acknowledge")
    assert 'id="renew-prompt"' not in client.get("/").get_data(as_text=True)


def renamed_policies(tmp_path, policy_id="ydelseskontrol", name="Ydelseskontrol"):
    """The shipped policy folder with its purpose policy under another id, as another
    municipality would write its own."""
    folder = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", folder)
    path = folder / "eu-oest.yaml"
    text = path.read_text(encoding="utf-8").replace("id: eu-oest", f"id: {policy_id}")
    path.write_text(text.replace("name_da: EU-øst indsatsen", f"name_da: {name}"),
                    encoding="utf-8")
    return folder


def test_a_policy_of_any_name_is_the_form_s_purpose_when_it_is_the_only_one(
        empty_app, tmp_path):
    """A municipality whose one purpose policy is not called eu-oest files requests from the
    form without choosing it, and through the API without naming it."""
    seeding.seed_register(db.session, Actor.system("test"), PROJECT_ROOT / "seed", PROJECT_ROOT)
    policies.load_into_register(db.session, Actor.system("test"), renamed_policies(tmp_path))
    db.session.commit()
    client = empty_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = db.session.scalar(
            sa.select(Employee).filter_by(username="ahn")).get_id()
    page = client.get("/requests/new?system=UIS").get_data(as_text=True)
    assert 'id="purpose"' not in page and 'value="ydelseskontrol"' in page
    response = client.post("/requests/new?system=UIS",
                           data={**{k: v for k, v in FORM.items() if k != "purpose"},
                                 "purpose": "ydelseskontrol", "action": "submit"})
    assert response.status_code == 302
    filed = db.session.scalar(sa.select(AccessRequest))
    assert filed.purpose == "ydelseskontrol"
    from governance.services import auth
    token = auth.create_token(db.session, Actor.system("test"), "mbe")
    db.session.commit()
    body = {k: v for k, v in FORM.items() if k != "purpose"}
    by_api = client.post("/api/v1/requests", json={**body, "grantee": "mbe"},
                         headers={"Authorization": f"Bearer {token}"})
    assert by_api.status_code == 201, by_api.get_json()


def test_with_two_policies_in_force_the_form_asks_which_and_the_api_must_be_told(
        client, login, api, tmp_path):
    policies.load_into_register(db.session, Actor.system("test"), renamed_policies(tmp_path))
    db.session.commit()
    login("ahn")
    page = client.get("/requests/new?system=UIS").get_data(as_text=True)
    assert '<select id="purpose" name="purpose">' in page and "Ydelseskontrol" in page
    assert '<option value="">Vælg formålet</option><option value="eu-oest">' in page  # none chosen
    unchosen = client.post("/requests/new?system=UIS",
                           data={**{k: v for k, v in FORM.items() if k != "purpose"},
                                 "purpose": "", "action": "check"})
    assert unchosen.status_code == 400
    assert "Angiv den formålspolitik" in unchosen.get_data(as_text=True)
    response = client.post("/requests/new?system=UIS",
                           data={**FORM, "purpose": "ydelseskontrol", "action": "submit"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(AccessRequest.purpose)) == "ydelseskontrol"
    body = {k: v for k, v in FORM.items() if k != "purpose"}
    unnamed = api("mbe").post("/api/v1/requests", json={**body, "grantee": "mbe"})
    assert unnamed.status_code == 400 and unnamed.get_json()["error"]["field"] == "purpose"
    assert "eu-oest, ydelseskontrol" in unnamed.get_json()["error"]["message"]
    # A purpose the form cannot offer is said on the form, not lost on a hidden field.
    wrong = client.post("/requests/new?system=UIS", data={**FORM, "purpose": "nope",
                                                          "action": "check"})
    assert wrong.status_code == 400


@pytest.mark.parametrize("reason, says", [("x" * 301, "Feltet må højst være 300 tegn langt."),
                                          ("", "Skriv en begrundelse for tilbagekaldelsen.")])
def test_a_bad_revocation_reason_is_shown_on_the_field_with_what_was_typed(
        client, login, approved_grant, reason, says):
    login("kfi")
    response = client.post(f"/grants/{approved_grant}/revoke", data={"reason": reason})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="field-error" id="reason-error">{says}</p>' in page
    assert 'aria-describedby="reason-error"' in page and 'aria-invalid="true"' in page
    if reason:
        assert reason in page                     # kept, to be shortened
    assert db.session.get(Grant, approved_grant).status == "approved"



def test_a_revocation_by_someone_who_may_not_is_refused_before_its_reason_is_judged(
        client, login, approved_grant):
    login("ahn")
    assert client.post(f"/grants/{approved_grant}/revoke", data={"reason": ""}
                       ).status_code == 403


def test_an_access_created_but_not_yet_acknowledged_says_so_in_every_list(client, login):
    """Not "approved" as if nobody had created it yet: the lists and the point-in-time page
    say it is created and waits for the employee's acknowledgement (P3)."""
    from ..services.workflow import actor, approved_grant
    waiting = approved_grant()                                   # ahn on UIS
    grant_service.fulfil(db.session, actor("rha"), waiting.id)
    not_created = approved_grant(grantee="mbe", system="CVR", categories=("identity",))
    db.session.commit()
    assert waiting.awaits_acknowledgement and not not_created.in_system
    login("dpo")
    for path in ("/grants/", "/dashboard/list/unacknowledged",
                 f"/grants/at?system=UIS&date={clock.today().isoformat()}"):
        page = client.get(path).get_data(as_text=True)
        assert "oprettet, venter på kvittering" in page, path
    register = client.get("/grants/").get_data(as_text=True)
    assert register.count("oprettet, venter på kvittering") == 1
    assert ">godkendt<" in register                               # mbe's, not yet created
    with client.session_transaction() as session:
        session["lang"] = "en"
    english = client.get("/grants/").get_data(as_text=True)
    assert "created, awaiting acknowledgement" in english


def test_the_request_form_states_its_system_and_shows_what_fails_first(client, login):
    """Once a system is chosen, no second list of systems stands beside the form (changed
    without choosing, it disagreed with the request sent); the result comes above the form,
    where the page opens, and the rules the request fails before those it passes."""
    from ..services.workflow import TASKS
    login("ahn")
    chosen = client.get("/requests/new?system=CPR").get_data(as_text=True)
    assert 'id="pick-system"' not in chosen and 'id="other-system"' in chosen
    assert 'id="chosen-system">CPR – ' in chosen
    assert 'id="pick-system"' in client.get("/requests/new").get_data(as_text=True)
    response = client.post("/requests/new?system=CPR", data={
        "system": "CPR", "grantee": "ahn", "access_level": "read", "scope": "summary",
        "tasks": TASKS, "frequency": "weekly", "data_categories": ["address", "religion"],
        "action": "check"})
    page = response.get_data(as_text=True)
    assert page.index('id="result"') < page.index('class="request-form"')
    result = page.split('id="result"', 1)[1].split('class="request-form"', 1)[0]
    codes = re.findall(r'<li class="(refused|ok)" data-code="([A-Z_]+)"', result)
    kinds = [kind for kind, _code in codes]
    assert "refused" in kinds and "ok" in kinds
    assert kinds == sorted(kinds, key=lambda kind: kind != "refused")
    assert ("refused", "SPECIAL_CATEGORY") in codes


def test_the_request_form_says_beside_a_level_or_scope_what_the_policy_refuses(client, login):
    """CPR is read-only and summary-only under EU-øst (P4): write and case detail stay on
    the form, so the check can say why, but are marked before anyone checks; UIS's
    allowed ones are not."""
    login("ahn")
    cpr = client.get("/requests/new?system=CPR").get_data(as_text=True)
    assert "Skriveadgang (politikken tillader det ikke i CPR)" in cpr
    assert "Sagsdetaljer (politikken tillader det ikke i CPR)" in cpr
    assert "Læseadgang (politikken" not in cpr
    acadre = client.get("/requests/new?system=ACADRE").get_data(as_text=True)
    assert "politikken tillader det ikke i ACADRE" not in acadre
