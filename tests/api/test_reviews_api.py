"""Reviews through the API and the reviewer's page."""
from datetime import timedelta

import pytest

from governance.extensions import db
from governance.services import clock

from ..services.workflow import active_grant


@pytest.fixture
def grant(app):
    return active_grant(clock.today())


def test_review_keep_and_revoke(api, grant):
    response = api("tko").post(f"/api/v1/grants/{grant.id}/review",
                               json={"decision": "keep", "comment": "Behovet består"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["review"]["decision"] == "keep" and body["review"]["reviewer"] == "tko"
    assert body["grant"]["review_due"] is not None
    response = api("kfi").post(f"/api/v1/grants/{grant.id}/review",
                               json={"decision": "revoke", "comment": "Opgaven er slut"})
    assert response.get_json()["grant"]["status"] == "revoked"
    # An ended access is due for no review, in the answer and when read again.
    assert response.get_json()["grant"]["review_due"] is None
    assert api("dpo").get(f"/api/v1/grants/{grant.id}").get_json()["review_due"] is None


@pytest.mark.parametrize("who, status", [("ahn", 403), ("dpo", 403), ("kfi", 200)])
def test_review_permissions(api, grant, who, status):
    response = api(who).post(f"/api/v1/grants/{grant.id}/review",
                             json={"decision": "keep", "comment": "ok"})
    assert response.status_code == status


def test_review_input_errors(api, grant):
    assert api("kfi").post(f"/api/v1/grants/{grant.id}/review",
                           json={"decision": "maybe", "comment": "x"}).status_code == 400
    assert api("kfi").post(f"/api/v1/grants/{grant.id}/review",
                           json={"decision": "keep"}).status_code == 400
    assert api("kfi").post("/api/v1/grants/9999/review",
                           json={"decision": "keep", "comment": "x"}).status_code == 404


def test_overdue_endpoint_with_as_of(api, grant):
    due = grant.review_due
    on_due = api("dpo").get(f"/api/v1/reviews/overdue?as_of={due.isoformat()}").get_json()
    assert on_due["total"] == 0
    after = api("dpo").get(
        f"/api/v1/reviews/overdue?as_of={(due + timedelta(days=3)).isoformat()}").get_json()
    assert after["total"] == 1
    item = after["items"][0]
    assert item["id"] == grant.id and item["days_overdue"] == 3
    assert item["finding"]["code"] == "REVIEW_OVERDUE" and item["finding"]["principle"] == "P5"
    assert api("ahn").get("/api/v1/reviews/overdue").status_code == 403
    assert api("dpo").get("/api/v1/reviews/overdue?as_of=tomorrow").status_code == 400
    for compact in ("20261201", "2026-W48-2", "2026-335"):     # ISO, but not YYYY-MM-DD
        response = api("dpo").get(f"/api/v1/reviews/overdue?as_of={compact}")
        assert response.status_code == 400, compact
        assert response.get_json()["error"]["field"] == "as_of"


def test_a_change_cannot_be_dated_with_as_of(api, grant):
    reviewer = api("tko")
    response = reviewer.post(f"/api/v1/grants/{grant.id}/review?as_of=2030-01-01",
                             json={"decision": "keep", "comment": "Fortsat behov"})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "as_of"
    db.session.expire_all()
    assert db.session.get(type(grant), grant.id).reviews == []


def test_the_review_page_reads_as_of(client, login, grant):
    login("tko")
    today_page = client.get("/reviews/").get_data(as_text=True)
    assert f'id="grant-{grant.id}"' not in today_page and 'id="as-of"' not in today_page
    later = client.get(f"/reviews/?as_of={grant.review_due.isoformat()}")
    assert later.status_code == 200
    text = later.get_data(as_text=True)
    assert f'id="grant-{grant.id}"' in text and 'id="as-of"' in text
    assert client.get("/reviews/?as_of=20270101").status_code == 400


def test_review_page_and_form(client, login, grant):
    db.session.expire_all()
    login("tko")
    # Not due yet: the page is empty; the form still refuses a missing comment.
    assert f'id="grant-{grant.id}"' not in client.get("/reviews/").get_data(as_text=True)
    grant.review_due = clock.today() + timedelta(days=5)
    db.session.commit()
    page = client.get("/reviews/").get_data(as_text=True)
    assert f'id="grant-{grant.id}"' in page and "Anne Holm Nielsen" in page
    assert client.post(f"/reviews/{grant.id}", data={"decision": "keep", "comment": "Behov"}
                       ).status_code == 302
    db.session.expire_all()
    assert grant.review_due > clock.today() + timedelta(days=300)


@pytest.mark.parametrize("who, status", [("kfi", 200), ("tko", 200), ("ahn", 403),
                                         ("dpo", 403), ("rha", 403)])
def test_review_page_by_role(client, login, who, status):
    login(who)
    assert client.get("/reviews/").status_code == status


def test_long_text_is_refused_whole_not_cut(api, grant):
    """Evidence: a comment or reason longer than is kept is a 400 naming the field, and
    nothing changes; before, a revocation reason was silently cut to 300 characters."""
    from governance.models import Grant
    too_long = api("kfi").post(f"/api/v1/grants/{grant.id}/review",
                               json={"decision": "keep", "comment": "x" * 4001})
    assert too_long.status_code == 400 and too_long.get_json()["error"]["field"] == "comment"
    reason = api("kfi").post(f"/api/v1/grants/{grant.id}/revoke", json={"reason": "r" * 301})
    assert reason.status_code == 400 and reason.get_json()["error"]["field"] == "reason"
    assert "300" in reason.get_json()["error"]["message"]
    db.session.expire_all()
    assert db.session.get(Grant, grant.id).status == "active"
    assert api("kfi").post(f"/api/v1/grants/{grant.id}/revoke",
                           json={"reason": "r" * 300}).status_code == 200


def test_a_reviewer_not_named_in_the_policy_is_told_about_reviews(api, grant):
    api("admin").patch("/api/v1/employees/hla", json={"roles": ["requester", "approver"]})
    response = api("hla").post(f"/api/v1/grants/{grant.id}/review",
                               json={"decision": "keep", "comment": "ok"},
                               headers={"Accept-Language": "en"})
    assert response.status_code == 422
    refusal = next(v for v in response.get_json()["violations"]
                   if v["code"] == "NOT_NAMED_APPROVER")
    assert "can review access under the policy" in refusal["message"]
    assert "decide requests" not in refusal["message"]


def test_only_a_named_approver_or_an_administrator_revokes(api, grant):
    api("admin").patch("/api/v1/employees/hla", json={"roles": ["requester", "approver"]})
    refused = api("hla").post(f"/api/v1/grants/{grant.id}/revoke", json={"reason": "Nej"})
    assert refused.status_code == 403
    db.session.expire_all()
    assert grant.status == "active"
    assert api("kfi").post(f"/api/v1/grants/{grant.id}/revoke",
                           json={"reason": "Opgaven er slut"}).status_code == 200


def test_a_review_comment_too_long_is_said_not_lost_silently(client, login, grant):
    from governance.models import Review
    grant.review_due = clock.today() + timedelta(days=5)
    db.session.commit()
    login("tko")
    response = client.post(f"/reviews/{grant.id}", data={"decision": "keep",
                                                          "comment": "x" * 4001},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Revurderingen blev ikke registreret: Feltet må højst være 4000 tegn langt." in page
    assert db.session.query(Review).count() == 0
    assert 'maxlength="4000"' in page


def test_an_active_grant_says_what_it_fails_today(api, grant):
    """P3 and P5 in the API: a year on, the acknowledgement has lapsed and the review is
    overdue; the grant says so with the stable codes."""
    caller = api("dpo")
    now = caller.get(f"/api/v1/grants/{grant.id}").get_json()
    assert now["findings"] == []
    later = (grant.review_due + timedelta(days=10)).isoformat()
    found = caller.get(f"/api/v1/grants/{grant.id}?as_of={later}",
                       headers={"Accept-Language": "en"}).get_json()["findings"]
    assert {(f["code"], f["principle"]) for f in found} == {("NOT_ACKNOWLEDGED", "P3"),
                                                          ("REVIEW_OVERDUE", "P5")}
    assert all(f["message"] for f in found)


def test_a_user_administrator_does_not_record_their_own_access_while_another_can(api):
    from governance.models import Employee, System
    from ..services.workflow import approved_grant
    own = approved_grant(grantee="rha")              # rha administers UIS, alone
    uis = db.session.query(System).filter_by(code="UIS").one()
    uis.user_admins.append(db.session.query(Employee).filter_by(username="tbr").one())
    db.session.commit()
    refused = api("rha").post(f"/api/v1/grants/{own.id}/fulfil",
                              headers={"Accept-Language": "en"})
    assert refused.status_code == 403
    assert "recorded by another user administrator of UIS" in refused.get_json()["error"][
        "message"]
    from governance.services import grants as grant_service
    from ..services.workflow import actor
    assert own.id not in [g.id for g in grant_service.tasks_for(db.session, actor("rha"))[0]]
    assert own.id in [g.id for g in grant_service.tasks_for(db.session, actor("tbr"))[0]]
    # tbr loses the user administrator's role: rha is the only one who can record it, so
    # it is rha's task again (not nobody's), and rha may.
    from governance.models import EmployeeRole
    tbr = db.session.query(Employee).filter_by(username="tbr").one()
    tbr.role_rows = [EmployeeRole(role="requester")]
    db.session.commit()
    assert own.id in [g.id for g in grant_service.tasks_for(db.session, actor("rha"))[0]]
    assert api("rha").post(f"/api/v1/grants/{own.id}/fulfil").status_code == 200


def test_access_a_new_policy_version_no_longer_allows_is_not_created_or_kept(api, app,
                                                                            tmp_path, client,
                                                                            login):
    """Through the API: 422 with the rule, audited, nothing changed; the grant says why."""
    import shutil
    from governance.config import PROJECT_ROOT
    from governance.models import AuditEntry
    from ..services.workflow import approved_grant
    held = active_grant(clock.today(), user_admin="ekj", system="CVR", categories=("identity",))
    waiting = approved_grant(grantee="mbe", system="CVR", categories=("identity",))
    folder = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", folder)
    path = folder / "eu-oest.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "  - code: CVR\n    access_levels: [read]\n    scopes: [summary]\n", ""),
        encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["policy", "load", str(folder)]).exit_code == 0
    due = held.review_due
    created = api("ekj").post(f"/api/v1/grants/{waiting.id}/fulfil")
    assert created.status_code == 422, created.get_json()
    assert [v["code"] for v in created.get_json()["violations"]] == ["SYSTEM_NOT_IN_POLICY"]
    kept = api("kfi").post(f"/api/v1/grants/{held.id}/review",
                           json={"decision": "keep", "comment": "Behovet består"})
    assert kept.status_code == 422
    db.session.expire_all()
    assert waiting.fulfilled_at is None and held.review_due == due
    actions = [e.action for e in db.session.query(AuditEntry).filter(
        AuditEntry.object_type == "grant").order_by(AuditEntry.id)][-2:]
    assert actions == ["grant.fulfil_refused", "grant.review_refused"]
    shown = api("kfi").get(f"/api/v1/grants/{waiting.id}").get_json()
    assert [f["code"] for f in shown["findings"]] == ["SYSTEM_NOT_IN_POLICY"]
    # The user administrator's task list says so in place of the button.
    login("ekj")
    tasks = client.get("/grants/tasks").get_data(as_text=True)
    row = tasks.split(f'id="disallowed-{waiting.id}"')[1].split("</td>")[0]
    assert "politikken i kraft tillader den ikke længere" in row and "SYSTEM_NOT_IN_POLICY" in row
    assert f'action="/grants/{waiting.id}/fulfil"' not in tasks
