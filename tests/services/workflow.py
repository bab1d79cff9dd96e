"""Building workflow state through the real services, for tests."""
from datetime import date

import sqlalchemy as sa

from governance.extensions import db
from governance.models import Employee, Grant
from governance.services import grants as grant_service
from governance.services import requests as request_service
from governance.services.actor import Actor

TASKS = "Kontrol af lovligt ophold for EU-borgere i konkrete sager om kontanthjælp"


def actor(username: str) -> Actor:
    return Actor.of(db.session.scalar(sa.select(Employee).where(Employee.username == username)))


def approved_grant(grantee="ahn", system="UIS", categories=("residence",), approvers=("kfi",),
                   **extra) -> Grant:
    data = request_service.parse_request_input(
        {"grantee": grantee, "system": system, "frequency": "weekly", "tasks": TASKS,
         "data_categories": list(categories), **extra}, actor(grantee))
    req, _ = request_service.request_access(db.session, actor(grantee), data)
    for approver in approvers:
        request_service.decide(db.session, actor(approver), req.id, "approve", "Relevant")
    db.session.commit()
    return db.session.scalar(sa.select(Grant).where(Grant.request_id == req.id))


def active_grant(activated_on: date, user_admin="rha", **kwargs) -> Grant:
    """An approved grant, acknowledged by its grantee and carried out on activated_on."""
    grant = approved_grant(**kwargs)
    grant_service.acknowledge(db.session, actor(grant.grantee.username), today=activated_on)
    grant_service.fulfil(db.session, actor(user_admin), grant.id, today=activated_on)
    db.session.commit()
    assert grant.status == "active"
    return grant
