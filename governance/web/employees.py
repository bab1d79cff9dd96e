"""The employee register: the list, and one person with their grants."""
from flask import Blueprint, render_template, request

from ..extensions import db
from ..services import register
from . import current_actor

bp = Blueprint("employees", __name__, url_prefix="/employees")


@bp.get("/")
def index():
    page = request.args.get("page", 1, type=int) or 1
    employees, total = register.list_employees(db.session, current_actor(),
                                               page=max(page, 1), per_page=100)
    return render_template("employees/index.html", employees=employees, total=total,
                           page=max(page, 1), per_page=100)


@bp.get("/<username>")
def detail(username: str):
    employee = register.get_employee(db.session, current_actor(), username)
    return render_template("employees/detail.html", employee=employee,
                           grants=register.grants_of(db.session, employee))
