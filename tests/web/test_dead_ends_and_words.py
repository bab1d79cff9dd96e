"""What a person meets when the register has moved on, or when a list is empty: a page
that says so in their words, with what they wrote kept, and no link that refuses them."""
import re
from datetime import timedelta
from html.parser import HTMLParser

import sqlalchemy as sa

from governance.extensions import db
from governance.models import AuditEntry, Employee, OutboxMessage
from governance.services import clock
from governance.services import requests as request_service
from governance.services import reviews as review_service
from governance.services.actor import Actor
from governance.web import day_text

from ..services.workflow import active_grant, approved_grant

FORM = {"grantee": "kfi", "system": "UIS", "access_level": "read", "scope": "summary",
        "purpose": "eu-oest", "frequency": "weekly", "data_categories": ["residence"],
        "tasks": "Kontrol af lovligt ophold for EU-borgere i konkrete sager om ydelser"}


def actor(username: str) -> Actor:
    return Actor.of(db.session.scalar(sa.select(Employee).where(Employee.username == username)))


def test_a_requester_for_a_colleague_is_not_offered_the_grant_page_that_refuses_them(
        client, login):
    data = request_service.parse_request_input(dict(FORM), actor("ahn"))
    req, _ = request_service.request_access(db.session, actor("ahn"), data)
    request_service.decide(db.session, actor("tko"), req.id, "approve", "")
    db.session.commit()
    login("ahn")
    page = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert "/grants/" not in page.split('<main id="main" tabindex="-1">')[1]
    login("kfi")  # the grantee sees it
    assert "Se den bevilgede adgang" in client.get(f"/requests/{req.id}").get_data(
        as_text=True)


def test_a_decision_on_a_request_decided_meanwhile_returns_to_it_with_the_comment(
        client, login):
    data = request_service.parse_request_input(dict(FORM, grantee="ahn"), actor("ahn"))
    req, _ = request_service.request_access(db.session, actor("ahn"), data)
    request_service.decide(db.session, actor("kfi"), req.id, "approve", "")
    db.session.commit()
    login("tko")
    response = client.post(f"/requests/{req.id}/decision",
                           data={"decision": "reject", "comment": "Ikke nødvendigt nu"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "allerede" in page and "Ikke nødvendigt nu" in page
    assert "Fejlkode" not in page  # the request's own page, not an error page


def test_the_audit_trail_names_each_action_and_finds_initials_in_any_case(client, login):
    login("ahn")
    client.get("/dashboard/")  # refused: an access.denied entry, kept in English
    login("dpo")
    page = client.get("/audit/?actor=AHN").get_data(as_text=True)
    row = page.split("<tbody>")[1].split("</tr>")[0]
    assert "Adgang til en side eller handling afvist" in row and "access.denied" in row
    assert db.session.scalar(sa.select(AuditEntry.summary).where(
        AuditEntry.action == "access.denied")).startswith("Refused GET /dashboard/: Only")


def test_a_status_report_period_in_the_wrong_order_is_said_on_the_form(client, login):
    login("dpo")
    response = client.get("/reports/status?from=2026-11-01&to=2026-10-01")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Perioden skal begynde, før den slutter" in page
    assert 'value="2026-11-01"' in page and 'value="2026-10-01"' in page
    assert 'id="from"' in page  # the form, not an error page


def test_an_empty_dashboard_list_does_not_say_nothing_was_granted(client, login, app):
    approved_grant()
    login("dpo")
    page = client.get("/dashboard/list/overdue").get_data(as_text=True)
    assert "Ingen adgange på denne liste." in page
    assert "Der er ikke bevilget nogen adgang" not in page


def test_the_review_page_stays_on_its_date_after_a_review(client, login, app):
    grant = active_grant(clock.today())
    day = (grant.review_due - timedelta(days=5)).isoformat()
    login("kfi")
    page = client.get(f"/reviews/?as_of={day}").get_data(as_text=True)
    assert f'action="/reviews/{grant.id}?as_of={day}"' in page
    response = client.post(f"/reviews/{grant.id}?as_of={day}",
                           data={"decision": "keep", "comment": "Behovet består"})
    assert response.status_code == 302 and f"as_of={day}" in response.location


def test_a_state_conflict_is_not_called_a_decision(client, login, app):
    grant = approved_grant()
    login("rha")
    assert client.post(f"/grants/{grant.id}/fulfil").status_code == 302
    again = client.post(f"/grants/{grant.id}/fulfil")
    assert again.status_code == 409
    assert "truffet en beslutning" not in again.get_data(as_text=True)


def test_refusals_on_the_dashboard_open_the_refusals_of_that_principle(client, login):
    login("ahn")
    client.post("/requests/new?system=UIS", data={**FORM, "grantee": "ahn",
                                                 "frequency": "once", "action": "submit"})
    refused = client.post("/requests/new?system=ACADRE", data={
        **FORM, "grantee": "ahn", "system": "ACADRE", "data_categories": ["health"],
        "action": "submit"})
    assert refused.status_code == 422
    login("dpo")
    dashboard = client.get("/dashboard/").get_data(as_text=True)
    assert 'href="/audit/?action=request.refused&amp;principle=P7"' in dashboard
    p7 = client.get("/audit/?action=request.refused&principle=P7").get_data(as_text=True)
    assert p7.count("<tr>") - 1 == 1 and 'id="principle-filter"' in p7
    both = client.get("/audit/?action=request.refused").get_data(as_text=True)
    assert both.count("<tr>") - 1 == 2
    assert client.get("/audit/?principle=P9").status_code == 400


def test_my_overview_says_what_waits_for_me_and_for_my_requests(client, login):
    data = request_service.parse_request_input(dict(FORM, grantee="ahn"), actor("ahn"))
    request_service.request_access(db.session, actor("ahn"), data)
    db.session.commit()
    login("ahn")
    mine = client.get("/").get_data(as_text=True)
    assert 'id="own-pending"' in mine and "1 af dine anmodninger venter" in mine
    assert 'id="to-decide"' not in mine
    login("tko")
    queue = client.get("/").get_data(as_text=True)
    assert "1 anmodning venter på din afgørelse" in queue
    assert 'href="/requests/#queue"' in queue


def test_a_review_with_a_bad_date_to_return_to_is_refused_before_it_is_recorded(
        client, login, app):
    from governance.models import Review
    grant = active_grant(clock.today())
    login("kfi")
    response = client.post(f"/reviews/{grant.id}?as_of=31-12-2026",
                           data={"decision": "keep", "comment": "Behovet består"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Review.id))) == 0
    odd = client.post("/reviews/keep", data={"grant_id": ["²", "9" * 12, str(grant.id)],
                                              "comment": "Behovet består"})
    assert odd.status_code == 302


class _Text(HTMLParser):
    """The words a reader sees: text outside tags, scripts and styles (not attributes)."""

    def __init__(self):
        super().__init__()
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def test_pages_write_every_date_the_same_way(client, login):
    """Dates read as '3. maj 2024' everywhere, not so in one column and 2024-05-03 in the
    next; ISO dates stay in form fields and addresses."""
    today = clock.today()
    overdue, kept = active_grant(today), active_grant(today, grantee="mbe")
    reviewed_on = kept.review_due - timedelta(days=10)
    review_service.review(db.session, actor("kfi"), kept.id, "keep", "Behovet består",
                          as_of=reviewed_on)
    db.session.commit()
    later = (overdue.review_due + timedelta(days=3)).isoformat()
    pages = {
        "dpo": ["/dashboard/", "/dashboard/list/active", "/grants/", f"/grants/{kept.id}",
                f"/grants/{overdue.id}",
                f"/grants/at?system=UIS&date={today.isoformat()}", "/reports/status",
                "/reports/reviews"],
        "kfi": [f"/reviews/?as_of={later}", "/requests/"],
        "ahn": ["/", "/principles/"],
    }
    seen = set()
    for username, paths in pages.items():
        login(username)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            text = visible_text(response.get_data(as_text=True))
            assert not re.findall(r"\b\d{4}-\d{2}-\d{2}\b", text), path
            seen.update(day for day in (today, reviewed_on, kept.review_due,
                                        overdue.review_due) if day_text(day, "da") in text)
    assert seen == {today, reviewed_on, kept.review_due, overdue.review_due}


def test_a_dashboard_on_a_past_day_says_it_is_not_the_register_of_that_day(client, login):
    """?as_of= moves the day deadlines are judged by; statuses stay today's. On a past day
    the page says so and points to the status report and the point-in-time page."""
    login("dpo")
    today = clock.today()
    assert 'id="moved-day"' not in client.get("/dashboard/").get_data(as_text=True)
    past = (today - timedelta(days=40)).isoformat()
    for path in (f"/dashboard/?as_of={past}", f"/dashboard/list/overdue?as_of={past}"):
        page = client.get(path).get_data(as_text=True)
        notice = page.split('id="moved-day"')[1].split("</p>")[0]
        assert "status" in notice and f"/reports/status?to={past}" in notice
        assert f"/grants/at?date={past}" in notice
    ahead = client.get(f"/dashboard/?as_of={(today + timedelta(days=40)).isoformat()}")
    assert "reports/status" not in ahead.get_data(as_text=True).split(
        'id="moved-day"')[1].split("</p>")[0]


def test_the_point_in_time_page_takes_as_of_as_well_as_date(client, login):
    grant = active_grant(clock.today())
    login("dpo")
    day = clock.today().isoformat()
    by_date = client.get(f"/grants/at?system=UIS&date={day}").get_data(as_text=True)
    by_as_of = client.get(f"/grants/at?system=UIS&as_of={day}").get_data(as_text=True)
    assert grant.grantee.name in by_date and grant.grantee.name in by_as_of
    assert f'value="{day}"' in client.get(f"/grants/at?as_of={day}").get_data(as_text=True)


def test_the_municipality_is_the_one_configured(app, client, login):
    """Another municipality sets MUNICIPALITY: its name, and its own policy's name and
    decision, where Høje-Taastrup's were written into the pages and e-mails."""
    app.config["MUNICIPALITY"] = "Roskilde Kommune"
    login("dpo")
    for path in ("/principles/", "/reports/status", "/dashboard/"):
        page = client.get(path).get_data(as_text=True)
        assert "Roskilde Kommune" in page and "Høje-Taastrup" not in page, path
    principles = client.get("/principles/").get_data(as_text=True)
    assert "EU-øst indsatsen (kontrol af lovligt ophold) (Direktionen 19-11-2024" in principles
    assert "Direktionen 19-11-2024" in client.get("/reports/status").get_data(as_text=True)
    # The reports page names the decision from the policy in force, not a fixed date.
    assert "Status for datadeling efter EU-øst indsatsen" in client.get("/reports/").get_data(
        as_text=True)
    approved_grant()
    bodies = db.session.scalars(sa.select(OutboxMessage.body)).all()
    assert bodies and all(body.endswith("Dataadgangsregistret, Roskilde Kommune\n")
                          for body in bodies)


def test_the_removal_lists_say_when_access_ended_and_how_long_removal_waits(client, login):
    from governance.services import grants as grant_service
    grant = active_grant(clock.today())
    grant_service.revoke(db.session, actor("kfi"), grant.id, "Opgaven er afsluttet")
    db.session.commit()
    login("dpo")
    later = (clock.today() + timedelta(days=10)).isoformat()
    page = client.get(f"/dashboard/list/to_remove?as_of={later}").get_data(as_text=True)
    table = page.split('id="list-to_remove"')[1]
    assert "Venter på at blive fjernet" in table and "<td>10 dage</td>" in table
    assert f"<td>{day_text(clock.today(), 'da')}</td>" in table
    assert "Næste revurdering" not in table
    active = client.get("/dashboard/list/active").get_data(as_text=True)
    assert "Venter på at blive fjernet" not in active
    before = (clock.today() - timedelta(days=30)).isoformat()   # before it ended: no count
    early = client.get(f"/dashboard/list/to_remove?as_of={before}").get_data(as_text=True)
    assert "<td>–</td>" in early.split('id="list-to_remove"')[1] and "-30" not in early


def test_the_point_in_time_page_answers_for_every_system_when_none_is_chosen(client, login):
    uis = active_grant(clock.today())
    cvr = active_grant(clock.today(), grantee="mbe", system="CVR", user_admin="ekj",
                       categories=("identity",))
    login("dpo")
    page = client.get(f"/grants/at?date={clock.today().isoformat()}").get_data(as_text=True)
    assert "Alle systemer" in page and "2 adgange" in page
    assert "<td>UIS</td>" in page and "<td>CVR</td>" in page
    assert uis.grantee.name in page and cvr.grantee.name in page


def test_a_pending_request_says_whose_approval_it_waits_for(client, login):
    from ..api.helpers import JUSTIFICATION
    data = request_service.parse_request_input(
        {**FORM, "grantee": "ahn", "scope": "detail", "write_justification": JUSTIFICATION},
        actor("ahn"))
    req, _ = request_service.request_access(db.session, actor("ahn"), data)
    request_service.decide(db.session, actor("kfi"), req.id, "approve", "")
    db.session.commit()
    login("kfi")
    approvals = re.search(r'<dd id="approvals">(.*?)</dd>',
                          client.get(f"/requests/{req.id}").get_data(as_text=True)).group(1)
    assert approvals == "2 (1 givet; venter på Tina Koudal)"


def test_the_grant_page_says_who_ended_the_access(client, login):
    grant = active_grant(clock.today())
    from governance.services import grants as grant_service
    grant_service.revoke(db.session, actor("kfi"), grant.id, "Opgaven er slut")
    db.session.commit()
    login("dpo")
    ended = re.search(r'<dd id="ended">(.*?)</dd>',
                      client.get(f"/grants/{grant.id}").get_data(as_text=True)).group(1)
    assert "af Klaus Fisker (kfi) – Opgaven er slut" in ended


def test_an_audit_period_ending_before_it_starts_is_refused(client, login):
    login("dpo")
    response = client.get("/audit/?from=2027-01-01&to=2026-01-01&actor=kfi")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Perioden skal begynde, før den slutter" in page
    # Said on the audit page itself, above its filters, with what was typed kept in them.
    assert '<form method="get" class="filters">' in page
    assert 'name="actor" value="kfi"' in page and 'name="from" value="2027-01-01"' in page


def test_a_refused_page_is_audited_in_english_whatever_the_readers_language(client, login):
    login("dpo")
    assert client.get("/requests/new").status_code == 403
    assert client.get("/grants/at?date=2026-01-01").status_code == 200
    login("ahn")
    assert client.get("/grants/at").status_code == 403
    summaries = db.session.scalars(sa.select(AuditEntry.summary).where(
        AuditEntry.action == "access.denied").order_by(AuditEntry.id)).all()
    assert summaries == [
        "Refused GET /requests/new: Only employees with the requester role can request access",
        "Refused GET /grants/at: Only approvers, the DPO and admins see who held access"]


def test_a_user_administrators_overview_says_what_waits_in_their_systems(client, login):
    approved_grant()                  # UIS, administered by rha
    login("rha")
    prompt = re.search(r'<p class="flash" id="tasks-waiting">(.*?)</p>',
                       client.get("/").get_data(as_text=True)).group(1)
    assert "1 godkendt adgang venter på at blive oprettet i dine systemer." in prompt
    assert 'href="/grants/tasks"' in prompt
    login("ahn")
    assert 'id="tasks-waiting"' not in client.get("/").get_data(as_text=True)


def test_the_grant_page_shows_what_an_active_access_fails_today(client, login):
    grant = active_grant(clock.today())
    grant.review_due = clock.today() - timedelta(days=3)
    db.session.commit()
    login("dpo")
    page = client.get(f"/grants/{grant.id}").get_data(as_text=True)
    assert 'id="findings"' in page and 'data-code="REVIEW_OVERDUE"' in page


def test_someone_without_roles_is_told_so_on_their_overview(client, login):
    from governance.services import employees
    admin = actor("admin")
    employees.update_employee(db.session, admin, "hvi", {"roles": []})
    db.session.commit()
    from governance.services import auth
    auth.set_password(db.session, Actor.system("test"), "hvi", "long-enough-1")
    db.session.commit()
    client.post("/login", data={"username": "hvi", "password": "long-enough-1"})
    assert "Mine roller: ingen (registret nævner dig" in client.get("/").get_data(as_text=True)


def test_small_dead_ends_say_what_to_do(client, login):
    active_grant(clock.today())
    # Asked for a page while logged out: the login page says why it came first.
    page = client.get("/grants/", follow_redirects=True).get_data(as_text=True)
    assert "Log ind for at fortsætte" in page
    login("admin")
    past = client.get("/grants/?page=999").get_data(as_text=True)
    assert "Siden ligger efter den sidste: der er 1 adgange fra side 1." in past
    assert "Der er ikke bevilget nogen adgang" not in past
    # Marking oneself as left is said on one's own page, not on an error page.
    refused = client.post("/employees/admin/leave", data={"confirm": "yes"},
                          follow_redirects=True)
    assert refused.status_code == 200
    assert "Du kan ikke selv markere dig som fratrådt" in refused.get_data(as_text=True)


def test_an_access_created_but_not_acknowledged_says_so(client, login):
    from governance.services import grants as grant_service
    grant = approved_grant(grantee="mbe")
    grant_service.fulfil(db.session, actor("rha"), grant.id)
    db.session.commit()
    login("rha")
    heading = client.get(f"/grants/{grant.id}").get_data(as_text=True)
    assert "oprettet, venter på medarbejderens kvittering" in heading


def test_a_request_needing_one_approval_waits_for_either_approver(client, login):
    data = request_service.parse_request_input({**FORM, "grantee": "ahn"}, actor("ahn"))
    req, _ = request_service.request_access(db.session, actor("ahn"), data)
    db.session.commit()
    login("kfi")
    approvals = re.search(r'<dd id="approvals">(.*?)</dd>',
                          client.get(f"/requests/{req.id}").get_data(as_text=True)).group(1)
    assert approvals == "1 (0 givet; venter på Klaus Fisker eller Tina Koudal)"


def test_the_audit_page_names_objects_in_danish_and_says_why_the_text_is_english(
        client, login, api):
    """The recorded description is the chain's own text (English, hashed); the page says so,
    and names the object in the page's language. A refused request, which has no number,
    shows no '-'."""
    refused = api("ahn").post("/api/v1/requests", json={
        **{k: v for k, v in FORM.items() if k != "system"}, "grantee": "ahn", "system": "CPR",
        "data_categories": ["address", "religion"]})
    assert refused.status_code == 422
    login("dpo")
    page = client.get("/audit/").get_data(as_text=True)
    assert 'id="recorded-text"' in page and "på engelsk" in page
    assert "<td>medarbejder dpo</td>" in page or "<td>medarbejder ahn</td>" in page
    assert "<td>anmodning </td>" in page and "<td>request -</td>" not in page


def test_a_system_page_and_the_reports_page_read_as_people_read(client, login):
    login("dpo")
    system = client.get("/systems/ACADRE").get_data(as_text=True)
    assert re.search(r"<h1>ACADRE <span class=\"muted\">– Acadre[^<]*</span></h1>", system)
    reports = client.get("/reports/").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)" id="refused-requests">', reports).group(1)
    assert "action=request.refused" in link and ">request.refused<" not in reports
