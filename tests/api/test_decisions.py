"""Deciding (P4): named approvers only, never on oneself, once, both for write access."""
import threading

import pytest
import sqlalchemy as sa

from governance.extensions import db
from governance.models import AccessRequest, Decision, Employee, EmployeeRole, Grant
from governance.services import requests as request_service
from governance.services.actor import Actor
from governance.services.errors import Conflict

from .helpers import file_request, last_audit, write_body


def decide(api, who, request_id, decision="approve", comment="Begrundet behov"):
    return api(who).post(f"/api/v1/requests/{request_id}/decision",
                         json={"decision": decision, "comment": comment})


def test_read_needs_one_named_approver(api):
    request_id = file_request(api)
    response = decide(api, "tko", request_id)
    assert response.get_json()["status"] == "approved"
    assert response.get_json()["grant_id"]


def test_write_needs_both_approvers(api):
    created = api("ahn").post("/api/v1/requests", json=write_body())
    assert created.status_code == 201, created.get_json()
    request_id = created.get_json()["id"]
    assert created.get_json()["approvals_needed"] == 2
    first = decide(api, "kfi", request_id)
    assert first.get_json()["status"] == "pending" and first.get_json()["grant_id"] is None
    again = decide(api, "kfi", request_id)
    assert again.status_code == 409
    second = decide(api, "tko", request_id)
    assert second.get_json()["status"] == "approved"
    assert [d["approver"] for d in second.get_json()["decisions"]] == ["kfi", "tko"]
    assert second.get_json()["grant_id"]


def test_detail_scope_needs_both_approvers(api):
    created = api("ahn").post("/api/v1/requests", json=write_body(
        access_level="read", scope="detail", system="EINDKOMST",
        data_categories=["income"]))
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["approvals_needed"] == 2


def test_write_with_one_approver_rejected_is_final(api):
    request_id = api("ahn").post("/api/v1/requests", json=write_body()).get_json()["id"]
    decide(api, "kfi", request_id)
    response = decide(api, "tko", request_id, "reject", "Skriveadgang er ikke nødvendig")
    assert response.get_json()["status"] == "rejected"
    assert db.session.scalar(sa.select(sa.func.count(Grant.id))) == 0


@pytest.mark.parametrize("requester, grantee, decider, code, status", [
    # An approver refused by P4 is refused by a rule: 422, like the other rule refusals.
    ("kfi", "kfi", "kfi", "SELF_DECISION", 422),       # own access
    ("kfi", "ahn", "kfi", "SELF_DECISION", 422),       # own request for someone else
    ("ahn", "ahn", "mbe-approver", "NOT_NAMED_APPROVER", 422),  # approver, not named
    # Without the approver role there is no permission to decide at all: 403.
    ("ahn", "ahn", "dpo", "NOT_NAMED_APPROVER", 403),
    ("ahn", "ahn", "admin", "NOT_NAMED_APPROVER", 403),
    ("ahn", "ahn", "mbe", "NOT_NAMED_APPROVER", 403),
])
def test_refused_deciders_are_refused_with_the_rule_and_audited(api, requester, grantee,
                                                                 decider, code, status):
    request_id = file_request(api, requester, grantee=grantee)
    if decider.endswith("-approver"):
        decider = decider.removesuffix("-approver")
        employee = db.session.scalar(sa.select(Employee).filter_by(username=decider))
        employee.role_rows.append(EmployeeRole(role="approver"))
        db.session.commit()
    caller = api(decider)
    response = decide(api, decider, request_id)
    assert response.status_code == status
    body = response.get_json()
    assert body["error"]["code"] == "decision_refused"
    assert code in [v["code"] for v in body["violations"]]
    assert all(v["principle"] == "P4" for v in body["violations"])
    entry = last_audit()
    assert (entry.action, entry.actor, entry.object_id) == ("request.decision_refused",
                                                            decider, str(request_id))
    assert db.session.get(AccessRequest, request_id).status == "pending"
    assert caller  # the token was made before the request


def test_second_decision_is_409(api):
    request_id = file_request(api)
    decide(api, "kfi", request_id)
    assert decide(api, "tko", request_id).status_code == 409
    assert decide(api, "tko", request_id, "reject", "nej").status_code == 409


def test_a_decision_comment_longer_than_kept_is_refused(api):
    request_id = file_request(api)
    response = decide(api, "kfi", request_id, "reject", "x" * 4001)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "comment"
    assert db.session.get(AccessRequest, request_id).status == "pending"


def test_reject_needs_a_comment(api):
    request_id = file_request(api)
    response = decide(api, "kfi", request_id, "reject", "  ")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "comment"
    assert db.session.get(AccessRequest, request_id).status == "pending"


def test_bad_decision_value_is_400(api):
    request_id = file_request(api)
    assert decide(api, "kfi", request_id, "maybe").status_code == 400


def test_special_category_request_can_never_be_approved(api):
    """Even a request stored before a policy tightened is refused at approval (P7)."""
    request_id = file_request(api, system="ACADRE", data_categories=["case_overview"])
    req = db.session.get(AccessRequest, request_id)
    req.data_categories = ["case_overview", "health"]
    db.session.commit()
    response = decide(api, "kfi", request_id)
    assert response.status_code == 422
    assert "SPECIAL_CATEGORY" in [v["code"] for v in response.get_json()["violations"]]
    assert db.session.get(AccessRequest, request_id).status == "pending"


def test_two_approvers_at_the_same_moment_give_one_outcome(app):
    """Threads race to decide one read request: exactly one decision lands."""
    from governance.services import grants as _  # noqa: F401 (imported before threads)
    with app.app_context():
        ahn = Actor("ahn", 5, frozenset({"requester"}))
    request_id = _file_directly(app)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def run(username: str, decision: str):
        with app.app_context():
            from governance.models import Employee
            me = db.session.scalar(sa.select(Employee).where(Employee.username == username))
            actor = Actor.of(me)
            barrier.wait()
            try:
                request_service.decide(db.session, actor, request_id, decision, "kommentar")
                db.session.commit()
                outcomes.append(decision)
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            except Exception as error:  # a lock error would be a failure of the design
                db.session.rollback()
                outcomes.append(f"error: {error!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=("kfi", "approve")),
               threading.Thread(target=run, args=("tko", "reject"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) in (["approve", "conflict"], ["conflict", "reject"]), outcomes
    req = db.session.get(AccessRequest, request_id)
    assert db.session.scalar(sa.select(sa.func.count(Decision.id))) == 1
    grants = db.session.scalar(sa.select(sa.func.count(Grant.id)))
    assert (req.status, grants) in (("approved", 1), ("rejected", 0))
    assert ahn.username == "ahn"


def _file_directly(app) -> int:
    from governance.models import Employee
    ahn = db.session.scalar(sa.select(Employee).where(Employee.username == "ahn"))
    data = request_service.parse_request_input(
        {"system": "UIS", "frequency": "weekly", "data_categories": ["residence"],
         "tasks": "Kontrol af lovligt ophold i konkrete sager om kontanthjælp"}, Actor.of(ahn))
    req, _ = request_service.request_access(db.session, Actor.of(ahn), data)
    db.session.commit()
    return req.id


def test_database_error_mid_approval_leaves_everything_untouched(api, monkeypatch):
    """The decision, the grant and their audit entries land together or not at all."""
    from sqlalchemy.exc import OperationalError

    from governance.models import AuditEntry
    from governance.services import grants

    request_id = file_request(api)
    caller = api("kfi")
    entries = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))

    def broken(*args, **kwargs):
        raise OperationalError("INSERT INTO grants", {}, Exception("disk I/O error"))
    monkeypatch.setattr(grants, "create_from_request", broken)
    response = caller.post(f"/api/v1/requests/{request_id}/decision",
                           json={"decision": "approve"})
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "INSERT" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AccessRequest, request_id).status == "pending"
    assert db.session.scalar(sa.select(sa.func.count(Decision.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Grant.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == entries


class _Locked(Exception):
    sqlstate = None

    def __str__(self):
        return "database is locked"


class _Deadlock(Exception):
    sqlstate = "40P01"


@pytest.mark.parametrize("cause", [_Locked(), _Deadlock("deadlock detected")])
def test_a_lock_not_granted_is_503_with_retry_after_and_saves_nothing(api, app, client,
                                                                      login, monkeypatch,
                                                                      cause):
    """SQLite's busy timeout or a PostgreSQL deadlock: the register is busy, try again;
    not a 500. Both in the API and on the pages."""
    from sqlalchemy.exc import OperationalError
    from governance.services import grants

    request_id = file_request(api)

    def busy(*args, **kwargs):
        raise OperationalError("UPDATE grants", {}, cause)
    monkeypatch.setattr(grants, "create_from_request", busy)
    response = api("kfi").post(f"/api/v1/requests/{request_id}/decision",
                               json={"decision": "approve"}, headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.get_json()["error"]["code"] == "busy"
    assert "try again in a moment" in response.get_json()["error"]["message"]
    login("kfi")
    page = client.post(f"/requests/{request_id}/decision",
                       data={"decision": "approve", "comment": "ok"})
    assert page.status_code == 503 and "Registret er optaget" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AccessRequest, request_id).status == "pending"


@pytest.mark.parametrize("path, body, field", [
    ("/api/v1/requests/{id}/decision", {"decision": "approve", "comment": "ok", "extra": 1},
     "extra"),
    ("/api/v1/acknowledgements", {"foo": 1}, "foo"),
])
def test_an_unknown_field_in_a_body_is_400_naming_it_and_writes_nothing(api, path, body,
                                                                         field):
    request_id = file_request(api)
    caller = api("kfi")
    before = last_audit().id
    response = caller.post(path.format(id=request_id), json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert db.session.get(AccessRequest, request_id).status == "pending"
    assert last_audit().id == before


@pytest.mark.parametrize("value, char", [("\ud800", "U+D800"),    # half a surrogate pair
                                         ("Kontrol\x07 af ophold", "U+0007"),
                                         ("\x1b[31m rødt", "U+001B")])
def test_text_that_cannot_be_stored_is_400_naming_its_field(api, value, char):
    from .helpers import request_body
    response = api("ahn").post("/api/v1/requests",
                               json=request_body(write_justification=value))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == "write_justification"
    assert char in response.get_json()["error"]["message"]


def test_a_body_nested_too_deeply_is_400(api):
    deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    response = api("ahn").post("/api/v1/requests", data=deep,
                               content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_input"


def test_deciding_a_withdrawn_request_says_it_was_withdrawn(api):
    request_id = file_request(api)
    assert api("ahn").post(f"/api/v1/requests/{request_id}/withdraw").status_code == 200
    response = api("kfi").post(f"/api/v1/requests/{request_id}/decision",
                               json={"decision": "approve"}, headers={"Accept-Language": "en"})
    assert response.status_code == 409
    assert "has been withdrawn; there is nothing to decide" in response.get_json()["error"][
        "message"]


@pytest.mark.parametrize("message, status", [
    ("UNIQUE constraint failed: grants.request_id", 409),
    ("FOREIGN KEY constraint failed", 500)])
def test_only_a_duplicate_is_a_clash_other_integrity_errors_are_bugs(api, monkeypatch,
                                                                    message, status):
    from sqlalchemy.exc import IntegrityError
    from governance.services import grants
    request_id = file_request(api)

    def broken(*args, **kwargs):
        raise IntegrityError("INSERT INTO grants", {}, Exception(message))
    monkeypatch.setattr(grants, "create_from_request", broken)
    response = api("kfi").post(f"/api/v1/requests/{request_id}/decision",
                               json={"decision": "approve"})
    assert response.status_code == status
    db.session.expire_all()
    assert db.session.get(AccessRequest, request_id).status == "pending"
