"""The DPO's dashboard: every figure equals the length of the list behind it."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from governance.extensions import db
from governance.models import Employee, Grant
from governance.services import clock, dashboard, employees, reviews
from governance.services import grants as grant_service
from governance.services import requests as request_service

from .workflow import active_grant, actor, approved_grant

TODAY = clock.today()


@pytest.fixture
def scenario(app):
    """A register with something in every list."""
    active = active_grant(TODAY)                                        # active, read
    active_grant(TODAY, grantee="mbe", user_admin="sni", system="ACADRE",
                 access_level="write", categories=("case_overview",), approvers=("kfi", "tko"),
                 write_justification="Taskforcen journaliserer sine egne kontrolsager")
    approved_grant(grantee="sjo", system="CVR", categories=("identity",))   # to create
    # lpe acknowledged, so only sjo and nra lack a current acknowledgement
    leaver_grant = active_grant(TODAY, grantee="lpe", system="EINDKOMST", user_admin="mlu",
                                categories=("income",))
    employees.update_employee(db.session, actor("admin"), "lpe", {"status": "left"})  # leaver
    waiting = approved_grant(grantee="nra", system="SAPA", categories=("benefits",))
    grant_service.fulfil(db.session, actor("lan"), waiting.id)          # not acknowledged
    data = request_service.parse_request_input(
        {"grantee": "ahn", "system": "FASIT", "frequency": "daily",
         "tasks": "Kontrol af tilknytning til jobcentret i sager om lovligt ophold",
         "data_categories": ["employment"]}, actor("ahn"))
    request_service.request_access(db.session, actor("ahn"), data)      # pending request
    active.review_due = TODAY - timedelta(days=2)                       # overdue
    db.session.commit()
    return {"leaver": leaver_grant.id}


def test_every_figure_equals_its_list(scenario):
    board = dashboard.build(db.session, actor("dpo"), TODAY)
    for name in dashboard.GRANT_LISTS:
        rows, total = dashboard.grant_list(db.session, actor("dpo"), name, TODAY)
        assert board.counts[name] == len(rows) == total, name
    assert board.counts["active"] == 2
    assert board.counts["to_create"] == 1
    assert board.counts["to_remove"] == 1 and board.counts["leavers"] == 1
    assert board.counts["overdue"] == 1
    assert board.counts["write_or_detail"] == 1
    assert board.counts["unacknowledged"] == 2     # sjo (not yet created) and nra
    assert board.pending_requests == 1
    assert board.by_system_level == {("ACADRE", "write"): 1, ("UIS", "read"): 1}
    assert sum(n for _, n in board.due_by_month) == 2


def test_due_30_window(scenario):
    board = dashboard.build(db.session, actor("dpo"), TODAY + timedelta(days=340))
    rows, _ = dashboard.grant_list(db.session, actor("dpo"), "due_30",
                                   TODAY + timedelta(days=340))
    assert board.counts["due_30"] == len(rows) == 1


def test_refusals_by_principle_from_the_audit_evidence(api, scenario):
    caller = api("ahn")
    caller.post("/api/v1/requests", json={"system": "ACADRE", "frequency": "once",
                                          "tasks": "x", "data_categories": ["health"]})
    caller.post("/api/v1/requests", json={"system": "CVR", "frequency": "yearly",
                                          "tasks": "x" * 50, "data_categories": ["identity"]})
    board = dashboard.build(db.session, actor("dpo"), TODAY)
    assert board.refusals_by_principle == {"P1": 2, "P7": 1}


def test_dashboard_page_links_each_figure_to_its_list(client, login, scenario):
    login("dpo")
    page = client.get("/dashboard/").get_data(as_text=True)
    for name in dashboard.GRANT_LISTS:
        assert f'id="figure-{name}" href="/dashboard/list/{name}?as_of=' in page
        assert client.get(f"/dashboard/list/{name}").status_code == 200
    assert '<svg id="chart-systems"' in page and '<svg id="chart-due"' in page
    assert "http://www.w3.org/2000/svg" in page and "https://" not in page
    overdue = client.get("/dashboard/list/overdue").get_data(as_text=True)
    assert len(re.findall(r'href="/grants/\d+"', overdue)) == 1
    assert client.get("/dashboard/list/nonsense").status_code == 400


def test_the_dashboard_reads_in_its_language_when_nothing_is_active(client, login):
    """An empty register: the table says there is nothing, the months are written as the
    page's language writes them, and each chart has a name a screen reader can say."""
    from babel.dates import format_date
    login("dpo")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="no-active-access">Ingen aktive adgange.' in page
    month = format_date(TODAY.replace(day=1), "MMM y", locale="da")
    assert f">{month}</text>" in page and f">{TODAY:%Y-%m}</text>" not in page
    for chart in ("chart-systems", "chart-due"):
        tag = page.split(f'<svg id="{chart}"', 1)[1].split(">", 1)[0]
        assert re.search(r'aria-label="[^"]{5,}"', tag), chart


def test_the_findings_page_judges_every_held_access(client, login, scenario):
    """Overdue (P5) and the access created while its grantee never acknowledged (P3), each
    with its rule and a list behind its count; the created-but-waiting one is counted as
    held, though the dashboard's 'active' figure does not count it."""
    login("dpo")
    assert 'href="/dashboard/findings?as_of=' in client.get("/dashboard/").get_data(
        as_text=True)
    page = client.get("/dashboard/findings").get_data(as_text=True)
    assert "REVIEW_OVERDUE" in page and "NOT_ACKNOWLEDGED" in page
    found = dashboard.rule_findings(db.session, actor("dpo"))
    waiting = db.session.scalar(sa.select(Grant.id).where(Grant.status == "approved",
                                                         Grant.fulfilled_at.is_not(None)))
    assert waiting in found.by_rule["NOT_ACKNOWLEDGED"]
    listed = client.get("/dashboard/findings?rule=NOT_ACKNOWLEDGED").get_data(as_text=True)
    assert f'href="/grants/{waiting}"' in listed
    assert client.get("/dashboard/findings?rule=NOPE").status_code == 400
    login("kfi")
    assert client.get("/dashboard/findings").status_code == 403


@pytest.mark.parametrize("who, status", [("dpo", 200), ("admin", 200), ("kfi", 403),
                                         ("ahn", 403), ("rha", 403)])
def test_dashboard_by_role(client, login, who, status):
    login(who)
    assert client.get("/dashboard/").status_code == status
    assert client.get("/dashboard/list/active").status_code == status


def test_overdue_list_matches_reviews_service(scenario):
    assert [g.id for g in dashboard.grant_list(db.session, actor("dpo"), "overdue", TODAY)[0]] == \
        [o.grant.id for o in reviews.overdue(db.session, TODAY)]
    lpe = db.session.scalar(sa.select(Employee).where(Employee.username == "lpe"))
    assert lpe.status == "left"
