"""Two changes at the same moment, through the HTTP layer on both engines: writers queue for
the audit chain's lock before they read, so each judges the register as the one before left
it. No 500, no deadlock, no state undone, no evidence written twice."""
import threading

import pytest
import sqlalchemy as sa

from governance.extensions import db
from governance.models import AccessRequest, AuditEntry, Employee, Grant
from governance.services import auth, clock
from governance.services import grants as grant_service
from governance.services.actor import Actor

from ..services.workflow import active_grant, approved_grant
from .helpers import write_body

ROUNDS = 4


@pytest.fixture
def tokens(app):
    made: dict[str, str] = {}

    def token(username: str) -> str:
        if username not in made:
            made[username] = auth.create_token(db.session, Actor.system("test"), username)
            db.session.commit()
        return made[username]
    return token


def race(app, tokens, *calls) -> list[tuple[int, dict]]:
    """Send the calls (username, method, path, body) from threads released together; each
    thread has its own client, and so its own app context and database session."""
    for username, *_ in calls:
        tokens(username)
    db.session.commit()   # the test's own session holds nothing while they run
    barrier, answers = threading.Barrier(len(calls)), [None] * len(calls)

    def send(index, username, method, path, body):
        client = app.test_client()
        barrier.wait()
        response = client.open(path, method=method, json=body,
                               headers={"Authorization": f"Bearer {tokens(username)}"})
        answers[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=send, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    return answers


def statuses(answers) -> list[int]:
    return sorted(status for status, _ in answers)


def actions_on(object_type: str, object_id) -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
        .order_by(AuditEntry.id)))


def test_a_revocation_and_a_record_at_once_never_bring_access_back(app, tokens):
    for n in range(ROUNDS):
        grantee = ("ahn", "mbe", "sjo", "lpe")[n]
        grant = approved_grant(grantee=grantee)
        grant_service.acknowledge(db.session, Actor.of(grant.grantee), today=clock.today())
        db.session.commit()
        answers = race(app, tokens,
                       ("kfi", "POST", f"/api/v1/grants/{grant.id}/revoke", {"reason": "Slut"}),
                       ("rha", "POST", f"/api/v1/grants/{grant.id}/fulfil", None))
        assert 500 not in statuses(answers), answers
        grant = db.session.get(Grant, grant.id)
        assert grant.status == "revoked", actions_on("grant", grant.id)
        actions = actions_on("grant", grant.id)
        assert actions.index("grant.revoke") > max(
            (i for i, a in enumerate(actions) if a == "grant.activate"), default=-1)


def test_both_approvals_of_a_two_approval_request_at_once_both_land(app, tokens, api):
    for grantee in ("ahn", "mbe", "sjo", "lpe")[:ROUNDS]:
        created = api(grantee).post("/api/v1/requests", json=write_body(grantee=grantee))
        assert created.status_code == 201, created.get_json()
        request_id = created.get_json()["id"]
        body = {"decision": "approve", "comment": "Begrundet behov"}
        answers = race(app, tokens,
                       ("kfi", "POST", f"/api/v1/requests/{request_id}/decision", body),
                       ("tko", "POST", f"/api/v1/requests/{request_id}/decision", body))
        assert statuses(answers) == [200, 200], answers
        assert db.session.get(AccessRequest, request_id).status == "approved"


def test_two_administrators_marking_one_leaver_write_it_once(app, tokens, api):
    api("admin").post("/api/v1/employees", json={
        "username": "adm2", "name": "Anden Administrator", "email": "adm2@htk.dk",
        "centre": "ØAC", "roles": ["admin"]})
    for username in ("ahn", "mbe", "sjo", "lpe")[:ROUNDS]:
        active_grant(clock.today(), grantee=username)
        answers = race(app, tokens,
                       ("admin", "PATCH", f"/api/v1/employees/{username}", {"status": "left"}),
                       ("adm2", "PATCH", f"/api/v1/employees/{username}", {"status": "left"}))
        assert 500 not in statuses(answers), answers
        assert all(status in (200, 409) for status in statuses(answers)), answers
        assert actions_on("employee", username).count("employee.left") == 1
        person = db.session.scalar(sa.select(Employee).where(Employee.username == username))
        assert person.status == "left"


def test_the_hr_feed_sending_one_new_employee_twice_at_once(app, tokens):
    for n in range(ROUNDS):
        body = {"username": f"new{n}", "name": "Ny Medarbejder", "email": f"new{n}@htk.dk",
                "centre": "ØAC"}
        answers = race(app, tokens, ("admin", "POST", "/api/v1/employees", body),
                       ("admin", "POST", "/api/v1/employees", body))
        assert statuses(answers) == [201, 409], answers
        assert actions_on("employee", f"new{n}").count("employee.create") == 1


def test_a_keep_and_a_revoke_of_one_review_at_once(app, tokens):
    for username in ("ahn", "mbe", "sjo", "lpe")[:ROUNDS]:
        grant = active_grant(clock.today(), grantee=username)
        answers = race(app, tokens,
                       ("kfi", "POST", f"/api/v1/grants/{grant.id}/review",
                        {"decision": "keep", "comment": "Behovet består"}),
                       ("tko", "POST", f"/api/v1/grants/{grant.id}/review",
                        {"decision": "revoke", "comment": "Opgaven er slut"}),
                       ("admin", "PATCH", f"/api/v1/employees/{username}", {"status": "left"}))
        assert 500 not in statuses(answers), answers
        assert db.session.get(Grant, grant.id).status == "revoked"


def test_a_writer_that_waits_too_long_for_the_chain_is_told_to_try_again(app, tokens, api,
                                                                         monkeypatch):
    """Another change holds the chain's lock (a long seed, say): a write waits a while and
    then answers 503 with Retry-After, nothing saved; a caller without a valid token is
    refused at once, without queueing."""
    import time
    from governance.services import audit
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's wait is its busy timeout, set per connection")
    monkeypatch.setattr(audit, "LOCK_WAIT_SECONDS", 0.3)
    request_id = api("ahn").post("/api/v1/requests", json=write_body(grantee="ahn")
                                 ).get_json()["id"]
    token, checker = tokens("kfi"), tokens("mbe")
    with db.engine.connect() as holder:
        holder.execute(sa.text("UPDATE audit_head SET entries = entries WHERE id = 1"))
        client = app.test_client()
        started = time.perf_counter()
        busy = client.post(f"/api/v1/requests/{request_id}/decision",
                           json={"decision": "approve", "comment": "ok"},
                           headers={"Authorization": f"Bearer {token}"})
        assert busy.status_code == 503, busy.get_json()
        assert busy.headers["Retry-After"] == "2"
        assert 0.25 < time.perf_counter() - started < 5
        started = time.perf_counter()
        anonymous = client.post(f"/api/v1/requests/{request_id}/decision",
                                json={"decision": "approve"},
                                headers={"Authorization": "Bearer nonsense"})
        assert anonymous.status_code == 401 and time.perf_counter() - started < 0.25
        started = time.perf_counter()     # the rule results change nothing: no queue
        checked = client.post("/api/v1/requests/check", json=write_body(grantee="mbe"),
                              headers={"Authorization": f"Bearer {checker}"})
        assert checked.status_code == 200 and time.perf_counter() - started < 0.25
        holder.rollback()
    db.session.expire_all()
    assert db.session.get(AccessRequest, request_id).status == "pending"
