"""Reading the register: systems, employees and their grants, in few queries."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased, selectinload

from ..models import (Centre, Employee, Grant, NonGrantableArea, System,
                      system_user_admins)
from ..domain.vocabulary import EmployeeStatus
from ..models.base import unicode_lower
from . import fields, policies
from .actor import Actor
from .errors import Forbidden, InvalidInput, NotFound, within
from .permissions import can_view_employee, can_view_people


def list_systems(session: Session) -> list[System]:
    return list(session.scalars(select(System).order_by(System.code).options(
        selectinload(System.owner), selectinload(System.user_admins),
        selectinload(System.categories),
        selectinload(System.areas).selectinload(NonGrantableArea.contact))))


def system_names(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every system, for choosing one."""
    return [tuple(row) for row in session.execute(
        select(System.code, System.name).order_by(System.code))]


def get_system(session: Session, code: str) -> System:
    system = session.scalar(select(System).where(System.code == code.upper()).options(
        selectinload(System.owner), selectinload(System.user_admins),
        selectinload(System.categories),
        selectinload(System.areas).selectinload(NonGrantableArea.contact)))
    if system is None:
        raise NotFound(_l("No system with code '%(code)s'", code=code))
    return system


def centre_names(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every centre, for choosing one."""
    return [tuple(row) for row in session.execute(
        select(Centre.code, Centre.name).order_by(Centre.code))]


def list_employees(session: Session, actor: Actor, *, page: int = 1, per_page: int = 50,
                   status: str | None = None, centre: str | None = None,
                   search: str | None = None) -> tuple[list[Employee], int]:
    """Employees by username; search finds text in the username, name or title."""
    if not can_view_people(actor):
        raise Forbidden(_l("Only approvers, user administrators, the DPO and admins may "
                           "list employees"))
    query = select(Employee)
    if status:
        query = query.where(Employee.status == status)
    if centre:
        query = query.where(Employee.centre_id.in_(
            select(Centre.id).where(Centre.code == centre)))
    if search:
        folded = search.lower()
        query = query.where(or_(*(unicode_lower(column).contains(folded, autoescape=True)
                                  for column in (Employee.username, Employee.name,
                                                 Employee.title))))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Employee.username).options(
        selectinload(Employee.centre), selectinload(Employee.role_rows))
        .limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def stored_username(session: Session, username: str) -> str | None:
    """The username as the register holds it, found whatever its case ("KFI" is kfi): a
    username is one person whatever its case. None when nobody has it."""
    if not username:
        return None
    return session.scalar(select(Employee.username).where(Employee.username == username)) \
        or session.scalar(select(Employee.username).where(
            func.lower(Employee.username) == username.lower()))


def as_stored(session: Session, username: str) -> str:
    """The username as the register holds it (`stored_username`); unknown ones as given."""
    return stored_username(session, username) or username


def get_employee(session: Session, actor: Actor, username: str) -> Employee:
    username = as_stored(session, username)
    employee = session.scalar(select(Employee).where(Employee.username == username).options(
        selectinload(Employee.centre), selectinload(Employee.role_rows)))
    if employee is None:
        raise NotFound(_l("No employee with username '%(username)s'", username=username))
    if not can_view_employee(actor, username):
        raise Forbidden(_l("You may only see your own page in the employee register"))
    return employee


def grants_of(session: Session, employee: Employee) -> list[Grant]:
    return list(session.scalars(select(Grant).where(Grant.grantee_id == employee.id)
                                .order_by(Grant.approved_at.desc())
                                .options(selectinload(Grant.system))))


def list_centres(session: Session) -> list[Centre]:
    return list(session.scalars(select(Centre).order_by(Centre.code)
                                .options(selectinload(Centre.manager))))


@dataclass(frozen=True)
class Vacancy:
    """A duty in the register still held by someone who has left: until someone else is
    named, its work is not done (a policy's named approver decides nothing, an area's
    contact person answers no one)."""

    duty: str        # "approver", "owner", "user_admin", "contact" or "manager"
    username: str
    name: str
    where: str       # the policy id, the system code, or the centre code (manager)
    area_key: str = ""                # a contact person's area,
    area: tuple[str, str] = ("", "")  # and its Danish and English name
    uncovered: bool = False  # a user administrator: the system has no active one left

    def area_name(self, locale: str) -> str:
        return self.area[1] if locale == "en" else self.area[0]


_LEFT = Employee.status == "left"
_Admin = aliased(Employee)
_ACTIVE_ADMINS = (select(func.count()).select_from(system_user_admins)
                  .join(_Admin, _Admin.id == system_user_admins.c.employee_id)
                  .where(system_user_admins.c.system_id == System.id,
                         _Admin.status == "active").scalar_subquery())
def _none(name: str):
    return literal("").label(name)


_ONE = literal(1)
# Every duty a leaver still holds, in one statement: (duty, username, name, where, area key,
# area name in Danish and English, active user administrators of the system). Each blank
# is a column of its own (one shared literal would be read as one column).
_HELD_BY_LEAVERS = union_all(
    select(literal("approver").label("duty"), Employee.username, Employee.name,
           _none("place"), _none("area_key"), _none("area_da"), _none("area_en"),
           _ONE.label("admins"))
    .where(_LEFT, Employee.username.in_(bindparam("approvers", expanding=True))),
    select(literal("owner"), Employee.username, Employee.name, System.code, _none("k"),
           _none("d"), _none("e"), _ONE).join(System, System.owner_id == Employee.id)
    .where(_LEFT),
    select(literal("user_admin"), Employee.username, Employee.name, System.code, _none("k"),
           _none("d"), _none("e"), _ACTIVE_ADMINS)
    .join(system_user_admins, system_user_admins.c.employee_id == Employee.id)
    .join(System, System.id == system_user_admins.c.system_id).where(_LEFT),
    select(literal("contact"), Employee.username, Employee.name, System.code,
           NonGrantableArea.key, NonGrantableArea.name_da, NonGrantableArea.name_en, _ONE)
    .join(NonGrantableArea, NonGrantableArea.contact_id == Employee.id)
    .join(System, System.id == NonGrantableArea.system_id).where(_LEFT),
    select(literal("manager"), Employee.username, Employee.name, Centre.code, _none("k"),
           _none("d"), _none("e"), _ONE).join(Centre, Centre.manager_id == Employee.id)
    .where(_LEFT),
).subquery()
_VACANCIES = select(_HELD_BY_LEAVERS)
_VACANCIES_OF = _VACANCIES.where(_HELD_BY_LEAVERS.c.username == bindparam("username"))


def vacancies(session: Session, username: str | None = None) -> list[Vacancy]:
    """Every duty a leaver still holds (only `username`'s when given): named approver in a
    policy in force, system owner, user administrator, contact person for an area, or a
    centre's manager."""
    named: dict[str, list[str]] = {}
    for policy_id, policy in sorted(policies.in_force(session).policies.items()):
        for approver in policy.approver_usernames:
            named.setdefault(approver, []).append(policy_id)
    values = {"approvers": sorted(named), **({"username": username} if username else {})}
    found = []
    for duty, who, name, where, key, da, en, admins in session.connection().execute(
            _VACANCIES_OF if username else _VACANCIES, values):
        if duty == "approver":
            found += [Vacancy("approver", who, name, policy_id) for policy_id in named[who]]
        else:
            found.append(Vacancy(duty, who, name, where, key, (da, en),
                                 uncovered=duty == "user_admin" and not admins))
    return sorted(found, key=lambda v: (v.username, v.duty, v.where, v.area_key))


STATUS_MESSAGE = _l("'status' must be 'active' or 'left'")


def employee_filters(session: Session, status: str | None, centre: str | None,
                     search: str | None) -> tuple[str | None, str | None, str | None]:
    """The people list's ?status=, ?centre= and ?q=, for the page and the API alike: a
    value the list cannot be filtered by is a 400 that names it, rather than a list that
    looks filtered and is not."""
    status = fields.status_filter(status or None, EmployeeStatus, STATUS_MESSAGE)
    centre = centre or None
    if centre and centre not in dict(centre_names(session)):
        raise InvalidInput(_l("No centre with code '%(code)s'", code=centre), field="centre")
    return status, centre, within((search or "").strip(), "q", 100) or None
