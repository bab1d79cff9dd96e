"""The centres of the municipality, each with its manager: kept by the administrator."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..domain.vocabulary import valid_centre_code
from ..models import Centre, Employee
from . import audit
from .actor import Actor
from .employees import require_admin
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .permissions import can_view_people


@dataclass(frozen=True)
class CentreRow:
    centre: Centre
    active: int   # employees in the centre who have not left


def list_centres(session: Session, actor: Actor) -> list[CentreRow]:
    """Every centre by code, with its manager and how many active employees it has."""
    if not can_view_people(actor):
        raise Forbidden(_l("Only approvers, user administrators, the DPO and admins see the "
                           "centres"))
    counts = dict(session.execute(
        select(Employee.centre_id, func.count(Employee.id))
        .where(Employee.status == "active").group_by(Employee.centre_id)).all())
    centres = session.scalars(select(Centre).order_by(Centre.code)
                              .options(selectinload(Centre.manager))).all()
    return [CentreRow(c, counts.get(c.id, 0)) for c in centres]


def get_centre(session: Session, code: str) -> Centre:
    centre = session.scalar(select(Centre).where(Centre.code == code))
    if centre is None:
        raise NotFound(_l("No centre with code '%(code)s'", code=code))
    return centre


def _values(session: Session, data: Any, *, creating: bool) -> dict:
    allowed = ("code", "name", "manager") if creating else ("name", "manager")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(_l("Unknown or read-only field '%(field)s'; expected: %(allowed)s",
                              field=unknown[0], allowed=", ".join(allowed)), field=unknown[0])
    values: dict = {}
    for key in ("code", "name"):
        if key in data:
            value = data[key]
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(_l("'%(field)s' must be non-empty text", field=key),
                                   field=key)
            values[key] = value.strip()
    if "code" in values:
        values["code"] = values["code"].upper()
        if not valid_centre_code(values["code"]):
            raise InvalidInput(_l("'%(value)s' is not a centre code: use capital letters "
                                  "(Æ, Ø and Å too) and digits, at most 20",
                                  value=values["code"]), field="code")
    if "name" in values and len(values["name"]) > 200:
        raise InvalidInput(_l("'%(field)s' is longer than %(n)s characters", field="name",
                              n=200), field="name")
    if "manager" in data:
        username = data["manager"]
        if username in (None, ""):
            values["manager"] = None
        else:
            if not isinstance(username, str):
                raise InvalidInput(_l("'%(field)s' must be non-empty text", field="manager"),
                                   field="manager")
            manager = session.scalar(select(Employee).where(Employee.username == username))
            if manager is None:
                raise InvalidInput(_l("No employee with username '%(username)s'",
                                      username=username), field="manager")
            if not manager.active:
                raise InvalidInput(_l("%(username)s has left and cannot manage a centre",
                                      username=username), field="manager")
            values["manager"] = manager
    if creating:
        for key in ("code", "name"):
            if key not in values:
                raise InvalidInput(_l("'%(field)s' is required", field=key), field=key)
    return values


def describe(centre: Centre) -> dict:
    return {"code": centre.code, "name": centre.name,
            "manager": centre.manager.username if centre.manager else None}


def create_centre(session: Session, actor: Actor, data: Any) -> Centre:
    require_admin(actor)
    values = _values(session, data, creating=True)
    if session.scalar(select(Centre.id).where(Centre.code == values["code"])):
        raise Conflict(_l("A centre with code '%(code)s' already exists", code=values["code"]),
                       field="code")
    centre = Centre(code=values["code"], name=values["name"], manager=values.get("manager"))
    session.add(centre)
    session.flush()
    audit.record(session, actor=actor.username, action="centre.create", object_type="centre",
                 object_id=centre.code, summary=f"{actor.username} created centre {centre.code}",
                 details={"before": None, "after": describe(centre)},
                 client_address=actor.client_address)
    return centre


def update_centre(session: Session, actor: Actor, code: str, data: Any) -> Centre:
    """A new name or manager; the code is the centre's key and does not change."""
    require_admin(actor)
    centre = get_centre(session, code)
    values = _values(session, data, creating=False)
    before = describe(centre)
    for key, value in values.items():
        setattr(centre, key, value)
    session.flush()
    if describe(centre) != before:
        audit.record(session, actor=actor.username, action="centre.update",
                     object_type="centre", object_id=centre.code,
                     summary=f"{actor.username} updated centre {centre.code}",
                     details={"before": before, "after": describe(centre)},
                     client_address=actor.client_address)
    return centre
