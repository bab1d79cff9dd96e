"""The centres of the municipality, each with its manager: kept by the administrator."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..domain.vocabulary import valid_centre_code
from ..models import Centre, Employee
from ..models.base import max_length
from . import audit, fields
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
    """The centre by its code, in any case (codes are kept in capitals)."""
    centre = session.scalar(select(Centre).where(Centre.code == code.upper()))
    if centre is None:
        raise NotFound(_l("No centre with code '%(code)s'", code=code))
    return centre


def _values(session: Session, data: Any, *, creating: bool) -> dict:
    data = fields.known(data, ("code", "name", "manager") if creating else ("name", "manager"))
    values = {key: fields.text(data, key, max_length(getattr(Centre, key)))
              for key in ("code", "name") if key in data}
    if "code" in values:
        values["code"] = values["code"].upper()
        if not valid_centre_code(values["code"]):
            raise InvalidInput(_l("'%(value)s' is not a centre code: use capital letters "
                                  "(Æ, Ø and Å too) and digits, at most 20",
                                  value=values["code"]), field="code")
    if "manager" in data:
        values["manager"] = _manager(session, data["manager"])
    return fields.required(values, ("code", "name") if creating else ())


def _manager(session: Session, username: Any) -> Employee | None:
    """The active employee who manages the centre, or None for no manager."""
    if username in (None, ""):
        return None
    if not isinstance(username, str):
        raise InvalidInput(_l("'%(field)s' must be non-empty text", field="manager"),
                           field="manager")
    manager = session.scalar(select(Employee).where(Employee.username == username))
    if manager is None:
        raise InvalidInput(_l("No employee with username '%(username)s'", username=username),
                           field="manager")
    if not manager.active:
        raise InvalidInput(_l("%(username)s has left and cannot manage a centre",
                              username=username), field="manager")
    return manager


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
    if isinstance(data, dict) and centre.manager is not None \
            and data.get("manager") == centre.manager.username:
        # The manager kept as they are, also one who has left since (still named, and
        # shown as a vacancy): a change of name alone must not drop them unasked.
        data = {key: value for key, value in data.items() if key != "manager"}
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
