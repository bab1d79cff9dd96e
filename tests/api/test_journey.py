"""The whole journey through the API: request -> approval -> fulfilment -> acknowledgement ->
active -> revocation -> removal, each step audited, and the chain intact afterwards."""
import sqlalchemy as sa

from governance.extensions import db
from governance.models import AuditEntry, OutboxMessage
from governance.services.audit import verify_chain

TASKS = ("Kontrol af lovligt ophold for EU-borgere, der søger kontanthjælp: opslag af "
         "opholdsgrundlag i konkrete sager")


def read_request(**extra):
    return {"grantee": "ahn", "system": "UIS", "access_level": "read", "scope": "summary",
            "purpose": "eu-oest", "tasks": TASKS, "frequency": "weekly",
            "data_categories": ["identity", "residence"], **extra}


def actions():
    """The audit actions in order, without the token creations the test fixture makes."""
    return [a for a in db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id))
            if not a.startswith("token.")]


def test_read_access_journey(api):
    created = api("ahn").post("/api/v1/requests", json=read_request())
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "pending"
    assert body["eligible_approvers"] == ["kfi", "tko"]
    assert all(check["passed"] for check in body["checks"])
    request_id = body["id"]

    decided = api("kfi").post(f"/api/v1/requests/{request_id}/decision",
                              json={"decision": "approve", "comment": "Relevant for kontrollen"})
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["status"] == "approved"
    grant_id = decided.get_json()["grant_id"]

    tasks = api("rha").get("/api/v1/tasks").get_json()
    assert [g["id"] for g in tasks["to_create"]] == [grant_id]
    fulfilled = api("rha").post(f"/api/v1/grants/{grant_id}/fulfil")
    assert fulfilled.get_json()["status"] == "approved"      # waiting for acknowledgement
    assert fulfilled.get_json()["fulfilled_at"]

    assert api("ahn").post("/api/v1/acknowledgements").status_code == 201
    grant = api("ahn").get(f"/api/v1/grants/{grant_id}").get_json()
    assert grant["status"] == "active" and grant["review_due"]

    revoked = api("tko").post(f"/api/v1/grants/{grant_id}/revoke",
                              json={"reason": "Opgaven er overgået til en kollega"})
    assert revoked.get_json()["status"] == "revoked"
    tasks = api("rha").get("/api/v1/tasks").get_json()
    assert [g["id"] for g in tasks["to_remove"]] == [grant_id]
    removed = api("rha").post(f"/api/v1/grants/{grant_id}/fulfil")
    assert removed.get_json()["removed_at"]
    assert api("rha").post(f"/api/v1/grants/{grant_id}/fulfil").status_code == 409

    assert actions()[-8:] == ["request.create", "request.approve", "grant.create",
                              "grant.fulfil", "acknowledgement.create", "grant.activate",
                              "grant.revoke", "grant.remove"]
    assert verify_chain(db.session).ok
    from governance.services.audit_trail import ACTIONS
    assert set(actions()) <= set(ACTIONS), "an action the audit page does not name"
    kinds = set(db.session.scalars(sa.select(OutboxMessage.kind)))
    assert {"request.new", "request.decided", "grant.create_task", "grant.acknowledge",
            "grant.remove_task"} <= kinds
