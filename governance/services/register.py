"""Reading the register: systems, employees and their grants, in few queries."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..models import Centre, Employee, Grant, NonGrantableArea, System
from ..models.base import unicode_lower
from .actor import Actor
from .errors import Forbidden, NotFound
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


def get_employee(session: Session, actor: Actor, username: str) -> Employee:
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
