"""Shared request bodies and counters for the workflow tests."""
import sqlalchemy as sa

from governance.extensions import db
from governance.models import AccessRequest, AuditEntry, Decision, Grant, OutboxMessage

TASKS = ("Kontrol af lovligt ophold for EU-borgere, der søger kontanthjælp: opslag af "
         "opholdsgrundlag i konkrete sager")
JUSTIFICATION = ("Taskforcen journaliserer selv sine kontrolsager og skal kunne oprette "
                 "dokumenter i egne sager")


def request_body(**extra) -> dict:
    return {"grantee": "ahn", "system": "UIS", "access_level": "read", "scope": "summary",
            "purpose": "eu-oest", "tasks": TASKS, "frequency": "weekly",
            "data_categories": ["identity", "residence"], **extra}


def write_body(**extra) -> dict:
    return request_body(**{"system": "ACADRE", "access_level": "write", "scope": "summary",
                           "data_categories": ["identity", "case_overview"],
                           "write_justification": JUSTIFICATION, **extra})


def state_counts() -> dict:
    """Rows of everything a refused request must not write."""
    return {model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (AccessRequest, Decision, Grant, OutboxMessage)}


def last_audit() -> AuditEntry:
    return db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()


def file_request(api, requester="ahn", **extra) -> int:
    response = api(requester).post("/api/v1/requests", json=request_body(**extra))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]
