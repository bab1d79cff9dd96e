"""The employee register: the list, and one person with their grants."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..extensions import db
from ..services import employees as employee_service
from ..services import register
from ..services.grants import can_view_grant
from ..services.permissions import can_administer_people
from . import current_actor
from .forms import EmptyForm

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
    actor = current_actor()
    employee = register.get_employee(db.session, actor, username)
    grants = register.grants_of(db.session, employee)
    return render_template("employees/detail.html", employee=employee, grants=grants,
                           viewable={g.id for g in grants if can_view_grant(actor, g)},
                           form=EmptyForm(),
                           can_mark_left=can_administer_people(actor) and employee.active)


@bp.post("/<username>/leave")
def leave(username: str):
    """A leaver: every access ends at once and becomes a removal task."""
    employee_service.require_admin(current_actor())
    if EmptyForm().validate_on_submit():
        if request.form.get("confirm") != "yes":
            flash(_("Nothing was changed: tick the box to confirm that the employee has "
                    "left."), "error")
            return redirect(url_for("employees.detail", username=username) + "#leave")
        employee_service.update_employee(db.session, current_actor(), username,
                                         {"status": "left"})
        db.session.commit()
        flash(_("%(name)s is marked as having left; all access is revoked.", name=username),
              "info")
    return redirect(url_for("employees.detail", username=username))
