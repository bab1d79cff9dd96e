"""The API's resources in this release: the caller, the systems and the employees."""
from __future__ import annotations

from flask import g, jsonify, request

from ..extensions import db
from ..models import Employee, System
from ..services import register
from . import bp, listing, paginate_args


def system_json(system: System) -> dict:
    return {
        "code": system.code, "name": system.name, "owner": system.external_owner,
        "system_owner": system.owner.username,
        "user_admins": [u.username for u in system.user_admins],
        "access_levels": list(system.access_levels), "scopes": list(system.scopes),
        "data_categories": [c.code for c in system.categories],
        "non_grantable_areas": [{
            "key": a.key, "name": a.name_da, "name_en": a.name_en,
            "scopes": list(a.scopes), "categories": list(a.categories),
            "contact": {"username": a.contact.username, "name": a.contact.name,
                        "email": a.contact.email}} for a in system.areas],
    }


def employee_json(employee: Employee) -> dict:
    return {"username": employee.username, "name": employee.name,
            "email": employee.email, "centre": employee.centre.code,
            "title": employee.title, "roles": employee.roles, "status": employee.status,
            "left_on": employee.left_on.isoformat() if employee.left_on else None}


@bp.get("/me")
def me():
    return jsonify(employee_json(g.api_employee))


@bp.get("/systems")
def systems():
    page, per_page = paginate_args()
    rows = register.list_systems(db.session)
    return listing([system_json(s) for s in rows[(page - 1) * per_page: page * per_page]],
                   len(rows))


@bp.get("/systems/<code>")
def system(code: str):
    return jsonify(system_json(register.get_system(db.session, code)))


@bp.get("/employees")
def employees():
    page, per_page = paginate_args()
    status, centre, search = register.employee_filters(
        db.session, request.args.get("status"), request.args.get("centre"),
        request.args.get("q"))
    rows, total = register.list_employees(db.session, g.actor, page=page, per_page=per_page,
                                          status=status, centre=centre, search=search)
    return listing([employee_json(e) for e in rows], total)


@bp.get("/employees/<username>")
def employee(username: str):
    return jsonify(employee_json(register.get_employee(db.session, g.actor, username)))
