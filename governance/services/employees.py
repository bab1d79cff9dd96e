"""The HR feed: creating and changing employees, and leavers, whose access all ends at once."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..domain.vocabulary import (EmployeeStatus, Role, reserved_username, valid_email,
                                 valid_username)
from ..models import AccessRequest, Centre, Employee, EmployeeRole, Grant, utcnow
from ..models.base import max_length, unicode_lower
from . import audit, clock, fields, grants, register
from .actor import Actor
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .permissions import can_administer_people

ROLES = [role.value for role in Role]
EDITABLE = ("name", "email", "centre", "title", "roles", "status")


def require_admin(actor: Actor) -> None:
    if not can_administer_people(actor):
        raise Forbidden(_l("Only an administrator can change the employee register"))


def can_mark_left(actor: Actor, employee: Employee) -> bool:
    """An administrator marks a leaver, but never themselves: the register keeps an
    administrator."""
    return can_administer_people(actor) and employee.active and employee.id != actor.employee_id


def _values(session: Session, data: Any, *, creating: bool) -> dict:
    data = fields.known(data, ("username",) + EDITABLE if creating else EDITABLE)
    # Longer than the column holds is refused, not cut.
    values = {key: fields.text(data, key, max_length(getattr(Employee, key)),
                               may_be_empty=key == "title")
              for key in ("username", "name", "email", "title") if key in data}
    if "username" in values and not valid_username(values["username"]):
        raise InvalidInput(_l("'%(value)s' is not a username: use letters, digits, '.', '_' "
                              "and '-', starting with a letter or digit, at most 64 "
                              "characters", value=values["username"]), field="username")
    if "username" in values and reserved_username(values["username"]):
        why = {"new": _l("/employees/new is the page for adding an employee"),
               "system": _l("the audit trail names the command line and the scheduler "
                            "'system'"),
               "anonymous": _l("the audit trail names a visitor who is not logged in "
                               "'anonymous'")}[values["username"].lower()]
        raise InvalidInput(_l("'%(value)s' cannot be a username: %(why)s",
                              value=values["username"], why=why), field="username")
    if "email" in values and not valid_email(values["email"]):
        raise InvalidInput(_l("'%(value)s' is not an e-mail address", value=values["email"]),
                           field="email")
    if "centre" in data:
        if not isinstance(data["centre"], str):
            raise InvalidInput(_l("'%(field)s' must be non-empty text", field="centre"),
                               field="centre")
        centre = session.scalar(select(Centre).where(Centre.code == data["centre"]))
        if centre is None:
            raise InvalidInput(_l("No centre with code '%(code)s'", code=data["centre"]),
                               field="centre")
        values["centre"] = centre
    if "roles" in data:
        roles = data["roles"]
        if not isinstance(roles, list) or any(r not in ROLES for r in roles):
            raise InvalidInput(_l("'roles' must be a list of: %(roles)s", roles=", ".join(ROLES)),
                               field="roles")
        values["roles"] = sorted(set(roles))
    if "status" in data:
        values["status"] = fields.status_filter(data["status"], EmployeeStatus,
                                                register.STATUS_MESSAGE)
        if values["status"] is None:
            raise InvalidInput(register.STATUS_MESSAGE, field="status")
    return fields.required(values, ("username", "name", "email", "centre") if creating else ())


def _address_free(session: Session, email: str, username: str | None) -> None:
    """One address, one active person: mail about someone's access goes to them alone. A
    leaver's address may come back with a new account."""
    other = session.scalar(select(Employee.username).where(
        unicode_lower(Employee.email) == email.lower(), Employee.status == "active",
        Employee.username != (username or "")))
    if other:
        raise Conflict(_l("'%(email)s' is already the e-mail address of %(username)s",
                          email=email, username=other), field="email")


def describe(employee: Employee) -> dict:
    return {"username": employee.username, "name": employee.name, "email": employee.email,
            "centre": employee.centre.code, "title": employee.title,
            "roles": sorted(employee.roles), "status": employee.status}


def create_employee(session: Session, actor: Actor, data: Any) -> Employee:
    require_admin(actor)
    values = _values(session, data, creating=True)
    # Initials are one person whatever their case: "XYZ" beside "xyz" would be two accounts
    # no reader of the audit trail could tell apart.
    taken = register.stored_username(session, values["username"])
    if taken:
        raise Conflict(_l("An employee with username '%(username)s' already exists",
                          username=taken), field="username")
    if values.get("status") == "left":
        raise InvalidInput(_l("A new employee cannot start as 'left'"), field="status")
    _address_free(session, values["email"], None)
    employee = Employee(username=values["username"], name=values["name"],
                        email=values["email"], centre=values["centre"],
                        title=values.get("title", ""),
                        role_rows=[EmployeeRole(role=r) for r in
                                   values.get("roles", ["requester"])])
    session.add(employee)
    session.flush()
    audit.record(session, actor=actor.username, action="employee.create",
                 object_type="employee", object_id=employee.username,
                 summary=f"{actor.username} created employee {employee.username}",
                 details={"before": None, "after": describe(employee)},
                 client_address=actor.client_address)
    return employee


def update_employee(session: Session, actor: Actor, username: str, data: Any,
                    today: date | None = None) -> Employee:
    """Change fields; setting status 'left' ends every access of the person (a leaver)."""
    require_admin(actor)
    username = register.as_stored(session, username)
    employee = session.scalar(select(Employee).where(Employee.username == username))
    if employee is None:
        raise NotFound(_l("No employee with username '%(username)s'", username=username))
    last_day = None
    if isinstance(data, dict) and "left_on" in data:
        last_day = _last_day(data["left_on"], today)
        data = {key: value for key, value in data.items() if key != "left_on"}
    values = _values(session, data, creating=False)
    leaving = values.pop("status", employee.status) == "left" and employee.active
    if last_day is not None and not leaving:
        raise InvalidInput(_l("'left_on' goes with status 'left', for an employee who has "
                              "not left yet"), field="left_on")
    if leaving and employee.id == actor.employee_id:
        raise InvalidInput(_l("You cannot mark yourself as having left: another administrator "
                              "or the HR feed does that, so that the register always has "
                              "an administrator"), field="status")
    if employee.status == "left" and data.get("status") == "active":
        raise Conflict(_l("%(username)s has left; a returning employee gets a new account",
                          username=username))
    if not employee.active:
        # A leaver's record stays as it was when they left (it is what the evidence names);
        # the same values sent again, as a feed does, change nothing and are no error.
        current = describe(employee)
        changed = sorted(key for key, value in values.items()
                         if current.get(key) != (value.code if key == "centre" else value))
        if changed:
            raise Conflict(_l("%(username)s has left; the record is kept as it was when they "
                              "left (not changed: %(fields)s)", username=username,
                              fields=", ".join(changed)), field=changed[0])
    if ("roles" in values and employee.id == actor.employee_id and employee.has_role("admin")
            and "admin" not in values["roles"]):
        raise InvalidInput(_l("You cannot remove your own administrator role: ask another "
                              "administrator, so that the register always has one"),
                           field="roles")
    if "email" in values and employee.active and not leaving:
        _address_free(session, values["email"], employee.username)
    before = describe(employee)
    for key, value in values.items():
        if key == "roles":
            if sorted(employee.roles) != value:
                employee.role_rows = [EmployeeRole(role=r) for r in value]
        else:
            setattr(employee, key, value)
    session.flush()
    if describe(employee) != before:
        audit.record(session, actor=actor.username, action="employee.update",
                     object_type="employee", object_id=username,
                     summary=f"{actor.username} updated employee {username}",
                     details={"before": before, "after": describe(employee)},
                     client_address=actor.client_address)
    if leaving:
        record_leaver(session, actor, employee, today, last_day)
    return employee


def _last_day(value: Any, today: date | None) -> date:
    """The HR feed's day a person left: a date, not after today."""
    if not isinstance(value, str):
        raise InvalidInput(_l("'left_on' must be a date as YYYY-MM-DD"), field="left_on")
    day = clock.parse_date(value, "left_on")
    if day > (today or clock.today()):
        raise InvalidInput(_l("'left_on' cannot be after today: the register marks a leaver "
                              "once they have left"), field="left_on")
    return day


def record_leaver(session: Session, actor: Actor, employee: Employee,
                  today: date | None = None, last_day: date | None = None) -> list[Grant]:
    """A leaver: sessions end, pending requests are withdrawn, every live grant is revoked.
    `last_day`, as the HR feed may send it, is the day they left (it may be before the day
    the register hears of it: the access ends now, and the gap stays visible)."""
    today = today or clock.today()
    left_on = last_day or today
    employee.status, employee.left_on = "left", left_on
    employee.session_version += 1
    session.flush()
    audit.record(session, actor=actor.username, action="employee.left",
                 object_type="employee", object_id=employee.username,
                 summary=f"{employee.username} has left"
                         + (f" (on {left_on.isoformat()})" if left_on != today else "")
                         + "; all access is revoked",
                 details={"before": {"status": "active"},
                          "after": {"status": "left", "left_on": left_on.isoformat()}},
                 client_address=actor.client_address)
    pending = session.scalars(select(AccessRequest).where(
        AccessRequest.grantee_id == employee.id, AccessRequest.status == "pending")).all()
    for req in pending:
        session.execute(update(AccessRequest).where(AccessRequest.id == req.id,
                                                    AccessRequest.status == "pending")
                        .values(status="withdrawn", version=AccessRequest.version + 1,
                                decided_at=utcnow())
                        .execution_options(synchronize_session=False))
        audit.record(session, actor=actor.username, action="request.withdraw",
                     object_type="request", object_id=req.id,
                     summary=f"Request {req.id} withdrawn: {employee.username} has left",
                     details={"before": {"status": "pending"}, "after": {"status": "withdrawn"},
                              "reason": "left"}, client_address=actor.client_address)
    revoked = []
    live = session.scalars(select(Grant).where(Grant.grantee_id == employee.id,
                                               Grant.status.in_(grants.LIVE))).all()
    for grant in live:
        revoked.append(grants.end_grant(session, actor, grant, "revoked", "left",
                                        "grant.revoke"))
    return revoked
