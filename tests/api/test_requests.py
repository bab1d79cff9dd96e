"""Requests through the API: every rule refusal is a 422 that writes nothing but evidence."""
import pytest

from governance.extensions import db
from governance.models import Employee

from .helpers import file_request, last_audit, request_body, state_counts, write_body

REFUSALS = [
    ("NEED_UNDOCUMENTED", "P1", {"tasks": "Kontrol"}),
    ("NEED_NOT_RECURRING", "P1", {"frequency": "once"}),
    ("NEED_NOT_RECURRING", "P1", {"frequency": "yearly"}),
    ("SYSTEM_NOT_IN_POLICY", "P4", None),
    ("LEVEL_NOT_ALLOWED", "P4", {"system": "CPR", "access_level": "write",
                                 "data_categories": ["address"],
                                 "write_justification": "x" * 50}),
    ("SCOPE_NOT_ALLOWED", "P4", {"system": "CVR", "scope": "detail",
                                 "data_categories": ["identity"],
                                 "write_justification": "x" * 50}),
    ("WRITE_UNJUSTIFIED", "P4", {"system": "ACADRE", "access_level": "write",
                                 "data_categories": ["case_overview"]}),
    ("AREA_NOT_GRANTABLE", "P6", {"system": "ACADRE", "data_categories": ["employment"]}),
    ("SPECIAL_CATEGORY", "P7", {"system": "ACADRE", "data_categories": ["health"]}),
    ("SPECIAL_CATEGORY", "P7", {"system": "CPR", "data_categories": ["religion"]}),
    ("SPECIAL_CATEGORY", "P7", {"system": "ACADRE", "data_categories": ["criminal"]}),
]


@pytest.mark.parametrize("code, principle, change", REFUSALS)
def test_each_refusal_is_422_with_code_and_principle_and_writes_nothing(api, app, code,
                                                                       principle, change):
    if change is None:
        # A system in the register that no policy covers.
        api("admin")  # make the admin token first, so the counts below are stable
        from governance.models import System
        system = db.session.get(System, 1)
        clone = System(code="KMDNEXUS", name="KMD Nexus", external_owner="KMD",
                       owner=system.owner, access_levels=["read"], scopes=["summary"],
                       user_admins=list(system.user_admins),
                       categories=list(system.categories[:1]))
        db.session.add(clone)
        db.session.commit()
        change = {"system": "KMDNEXUS", "data_categories": [system.categories[0].code]}
    caller = api("ahn")
    before = state_counts()
    response = caller.post("/api/v1/requests", json=request_body(**change))
    assert response.status_code == 422, response.get_json()
    violations = response.get_json()["violations"]
    assert {"code": code, "principle": principle} in [
        {"code": v["code"], "principle": v["principle"]} for v in violations]
    assert all(v["message"] for v in violations)
    assert state_counts() == before
    entry = last_audit()
    assert entry.action == "request.refused" and code in entry.summary


def test_area_refusal_names_the_contact_person(api):
    response = api("ahn").post("/api/v1/requests", json=request_body(
        system="ACADRE", scope="detail", data_categories=["family"],
        write_justification="x" * 60))
    assert response.status_code == 422
    area = next(v for v in response.get_json()["violations"]
                if v["code"] == "AREA_NOT_GRANTABLE")
    assert area["contact"]["username"] == "hvi"
    assert "Helle Vinther" in area["message"]


def _mark_left(api, username):
    response = api("admin").patch(f"/api/v1/employees/{username}", json={"status": "left"})
    assert response.status_code == 200, response.get_json()


def test_a_named_approver_who_left_is_not_offered_and_two_approvals_are_refused(api):
    _mark_left(api, "tko")
    caller = api("ahn")
    read = caller.post("/api/v1/requests/check", json=request_body())
    assert read.get_json()["passed"] is True
    assert read.get_json()["eligible_approvers"] == ["kfi"]
    before = state_counts()
    detail = caller.post("/api/v1/requests", json=request_body(
        scope="detail", write_justification="x" * 60), headers={"Accept-Language": "en"})
    assert detail.status_code == 422, detail.get_json()
    refusal = next(v for v in detail.get_json()["violations"] if v["code"] == "APPROVER_UNAVAILABLE")
    assert "Tina Koudal has left" in refusal["message"]
    assert state_counts() == before


def test_a_refusal_names_the_areas_contact_as_the_register_has_it_now(api):
    body = request_body(system="ACADRE", data_categories=["employment"])
    first = api("ahn").post("/api/v1/requests", json=body).get_json()
    assert first["violations"][0]["contact"]["username"] == "kvi"
    # The seed names another contact person; the policy version in force is unchanged.
    from governance.models import NonGrantableArea
    area = db.session.query(NonGrantableArea).filter_by(key="personnel_cases").one()
    area.contact = db.session.query(Employee).filter_by(username="hvi").one()
    db.session.commit()
    moved = api("ahn").post("/api/v1/requests", json=body).get_json()["violations"][0]
    assert moved["contact"]["username"] == "hvi" and "Helle Vinther" in moved["message"]
    # The contact person and the system's owner (kvi both) leave: nobody is named.
    area.contact = db.session.query(Employee).filter_by(username="kvi").one()
    db.session.commit()
    _mark_left(api, "kvi")
    gone = api("ahn").post("/api/v1/requests", json=body,
                           headers={"Accept-Language": "en"}).get_json()["violations"][0]
    assert gone["code"] == "AREA_NOT_GRANTABLE" and "contact" not in gone
    assert "no contact person at present" in gone["message"]
    assert "Karen Villadsen" not in gone["message"]


def test_a_one_off_need_does_not_point_to_a_system_owner_who_left(api):
    _mark_left(api, "tko")   # the owner of FASIT
    refusal = api("ahn").post("/api/v1/requests", json=request_body(
        system="FASIT", frequency="once", data_categories=["benefits"])).get_json()
    refusal = next(v for v in refusal["violations"] if v["code"] == "NEED_NOT_RECURRING")
    assert "contact" not in refusal and "Tina Koudal" not in refusal["message"]


def test_messages_follow_accept_language(api):
    caller = api("ahn")
    danish = caller.post("/api/v1/requests", json=request_body(frequency="once"))
    english = caller.post("/api/v1/requests", json=request_body(frequency="once"),
                          headers={"Accept-Language": "en"})
    assert "kontaktperson" in danish.get_json()["violations"][0]["message"]
    assert "contact person" in english.get_json()["violations"][0]["message"]
    refusal = danish.get_json()["violations"][0]
    assert refusal["contact"]["username"] == "tko" and "tko@htk.dk" in refusal["message"]


def test_grantee_who_left_is_refused(api):
    caller = api("ahn")
    db.session.query(Employee).filter_by(username="sjo").one().status = "left"
    db.session.commit()
    response = caller.post("/api/v1/requests", json=request_body(grantee="sjo"))
    assert response.status_code == 422
    assert "GRANTEE_INACTIVE" in [v["code"] for v in response.get_json()["violations"]]


def test_duplicate_of_a_pending_request_is_refused(api):
    file_request(api)
    response = api("ahn").post("/api/v1/requests", json=request_body())
    assert response.status_code == 422
    assert [v["code"] for v in response.get_json()["violations"]] == ["DUPLICATE_ACCESS"]
    # The person by name, with the username beside it, as the rest of the page names people.
    assert response.get_json()["violations"][0]["message"].startswith(
        "Anne Holm Nielsen (ahn) har allerede en anmodning til UIS")


def test_request_for_a_colleague_in_another_centre_is_judged_alike(api):
    """P2: ahn (ØAC) asks for sjo (SAC); nothing about the centre changes the outcome."""
    response = api("ahn").post("/api/v1/requests", json=request_body(grantee="sjo"))
    assert response.status_code == 201
    assert response.get_json()["grantee"] == "sjo"
    assert response.get_json()["requester"] == "ahn"


@pytest.mark.parametrize("body, field", [
    ({"system": "UIS"}, "frequency"),
    (request_body(frequency="sometimes"), "frequency"),
    (request_body(access_level="admin"), "access_level"),
    (request_body(system="NOPE"), "system"),
    (request_body(grantee="nobody"), "grantee"),
    (request_body(data_categories=["income"]), "data_categories"),
    (request_body(data_categories="identity"), "data_categories"),
    (request_body(purpose="other"), "purpose"),
    (request_body(status="approved"), "status"),
])
def test_malformed_request_is_400_naming_the_field(api, body, field):
    caller = api("ahn")
    before = state_counts()
    response = caller.post("/api/v1/requests", json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert state_counts() == before


def test_non_json_body_is_400(api):
    response = api("ahn").post("/api/v1/requests", data="grantee=ahn",
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_check_endpoint_reports_without_writing(api):
    caller = api("ahn")
    before = state_counts()
    response = caller.post("/api/v1/requests/check", json=write_body())
    body = response.get_json()
    assert response.status_code == 200 and body["passed"] is True
    assert body["approvals_needed"] == 2 and body["eligible_approvers"] == ["kfi", "tko"]
    assert state_counts() == before


def test_only_requesters_can_request(api):
    response = api("dpo").post("/api/v1/requests", json=request_body(grantee="ahn"))
    assert response.status_code == 403


def test_request_visibility(api):
    request_id = file_request(api)
    assert api("ahn").get(f"/api/v1/requests/{request_id}").status_code == 200
    assert api("kfi").get(f"/api/v1/requests/{request_id}").status_code == 200
    assert api("dpo").get(f"/api/v1/requests/{request_id}").status_code == 200
    assert api("mbe").get(f"/api/v1/requests/{request_id}").status_code == 403
    assert api("mbe").get("/api/v1/requests").get_json()["total"] == 0
    assert api("ahn").get("/api/v1/requests").get_json()["total"] == 1
    assert api("ahn").get("/api/v1/requests/999").status_code == 404


def test_withdraw(api):
    request_id = file_request(api)
    assert api("mbe").post(f"/api/v1/requests/{request_id}/withdraw").status_code == 403
    response = api("ahn").post(f"/api/v1/requests/{request_id}/withdraw")
    assert response.get_json()["status"] == "withdrawn"
    assert api("ahn").post(f"/api/v1/requests/{request_id}/withdraw").status_code == 409
    decision = api("kfi").post(f"/api/v1/requests/{request_id}/decision",
                               json={"decision": "approve"})
    assert decision.status_code == 409


@pytest.mark.parametrize("requester, change", [
    ("tko", {"grantee": "kfi"}),                               # neither approver may decide
    ("kfi", {"grantee": "kfi", "scope": "detail", "system": "ACADRE",
             "data_categories": ["case_overview"],
             "write_justification": "Sagsdetaljer i taskforcens egne kontrolsager"}),
])
def test_a_request_too_few_approvers_can_decide_is_refused_by_the_check_and_on_filing(
        api, requester, change):
    caller = api(requester)
    checked = caller.post("/api/v1/requests/check", json=request_body(**change)).get_json()
    assert checked["passed"] is False
    failed = [c for c in checked["checks"] if not c["passed"]]
    assert [(c["code"], c["principle"]) for c in failed] == [("SELF_DECISION", "P4")]
    before = state_counts()
    response = caller.post("/api/v1/requests", json=request_body(**change))
    assert response.status_code == 422, response.get_json()
    assert [v["code"] for v in response.get_json()["violations"]] == ["SELF_DECISION"]
    assert state_counts() == before


def test_the_check_names_who_can_decide(api):
    checks = api("ahn").post("/api/v1/requests/check", json=request_body()).get_json()["checks"]
    decider = next(c for c in checks if c["code"] == "SELF_DECISION")
    assert decider["passed"] and "Klaus Fisker" in decider["message"]


def test_a_refusal_speaks_the_callers_language_throughout(api):
    body = request_body(tasks="Kontrol", frequency="once")
    for language in ("da", "en"):
        answer = api("ahn").post("/api/v1/requests", json=body,
                                 headers={"Accept-Language": language}).get_json()
        messages = [v["message"] for v in answer["violations"]]
        assert len(messages) >= 2
        assert answer["error"]["message"] == " ".join(messages)
        assert ".;" not in answer["error"]["message"]


def test_the_check_is_refused_to_whoever_may_not_file(api):
    checked = api("dpo").post("/api/v1/requests/check", json=request_body())
    assert checked.status_code == 403
    assert api("dpo").post("/api/v1/requests", json=request_body()).status_code == 403


def test_an_unknown_data_category_is_named_as_unknown(api):
    response = api("ahn").post("/api/v1/requests", json=request_body(data_categories=["nope"]),
                               headers={"Accept-Language": "en"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == "data_categories"
    assert "'nope' is not a data category" in error["message"] and "identity" in error["message"]


def test_taking_a_role_away_takes_the_power_with_it(api):
    """Named in the policy or listed as a system's administrator is not enough: without
    the role the register gives, the service refuses the decision, the review and the
    record, as the pages hide their buttons."""
    from governance.services import clock
    from ..services.workflow import active_grant
    pending = file_request(api)
    kept = active_grant(clock.today(), grantee="mbe")
    to_create = file_request(api, system="CVR", data_categories=["identity"])
    assert api("tko").post(f"/api/v1/requests/{to_create}/decision",
                           json={"decision": "approve", "comment": "ok"}).status_code == 200
    for username, roles in (("kfi", ["requester"]), ("ekj", ["requester"])):
        changed = api("admin").patch(f"/api/v1/employees/{username}", json={"roles": roles})
        assert changed.status_code == 200, changed.get_json()
    before = state_counts()
    decided = api("kfi").post(f"/api/v1/requests/{pending}/decision",
                              json={"decision": "approve", "comment": "ok"},
                              headers={"Accept-Language": "en"})
    assert decided.status_code == 403, decided.get_json()
    assert "no longer gives you the approver role" in decided.get_json()["error"]["message"]
    assert state_counts() == before
    reviewed = api("kfi").post(f"/api/v1/grants/{kept.id}/review",
                               json={"decision": "keep", "comment": "Behovet består"})
    assert reviewed.status_code == 403
    grant_id = api("tko").get(f"/api/v1/requests/{to_create}").get_json()["grant_id"]
    assert api("ekj").post(f"/api/v1/grants/{grant_id}/fulfil").status_code == 403
    # Requesters are told who can decide now, and why the other cannot.
    check = api("ahn").post("/api/v1/requests/check", json=request_body(grantee="sjo"),
                            headers={"Accept-Language": "en"}).get_json()
    assert check["eligible_approvers"] == ["tko"]
    detail = api("ahn").post("/api/v1/requests/check", json=request_body(
        grantee="sjo", scope="detail", write_justification="x" * 60),
        headers={"Accept-Language": "en"})
    assert detail.get_json()["passed"] is False
    refusal = next(c for c in detail.get_json()["checks"] if c["code"] == "APPROVER_UNAVAILABLE")
    assert "Klaus Fisker no longer has the approver role" in refusal["message"]
    # Given back, it works again.
    api("admin").patch("/api/v1/employees/kfi", json={"roles": ["requester", "approver"]})
    assert api("kfi").post(f"/api/v1/requests/{pending}/decision",
                           json={"decision": "approve", "comment": "ok"}).status_code == 200
