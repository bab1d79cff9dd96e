"""The employee register: the list, one person with their grants, and the administrator's
forms to add and change people."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_babel import lazy_gettext as _l

from ..domain.vocabulary import Role, label
from ..extensions import db
from ..services import employees as employee_service
from ..services import clock, register
from ..services.errors import Conflict, InvalidInput
from ..services import grants as grant_service
from ..services.grants import can_view_grant
from ..services.permissions import can_administer_people
from . import current_actor, duty_remedy, duty_text, page_arg, save_form
from .forms import EmployeeForm, EmptyForm

bp = Blueprint("employees", __name__, url_prefix="/employees")


PER_PAGE = 100


@bp.get("/")
def index():
    actor = current_actor()
    status, centre, search = register.employee_filters(
        db.session, request.args.get("status"), request.args.get("centre"),
        request.args.get("q"))
    employees, total = register.list_employees(db.session, actor, page=page_arg(),
                                               per_page=PER_PAGE, status=status,
                                               centre=centre, search=search)
    return render_template("employees/index.html", employees=employees, total=total,
                           page=page_arg(), per_page=PER_PAGE, search=search, centre=centre,
                           status=status, centres=register.centre_names(db.session),
                           can_add=can_administer_people(actor),
                           pager_args={k: v for k, v in (("q", search), ("centre", centre),
                                                         ("status", status)) if v})


def _employee_form(form: EmployeeForm) -> EmployeeForm:
    form.centre.choices = [("", "")] + [(code, f"{code}: {name}") for code, name in
                                        register.centre_names(db.session)]
    form.roles.choices = [(role.value, label(role.value, str(get_locale()))) for role in Role]
    return form


def _save(form: EmployeeForm, save, employee=None):
    return save_form(form, save, "employees/form.html",
                     lambda saved: url_for("employees.detail", username=saved.username),
                     employee=employee)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """The administrator adds a person (the HR feed does the same over the API)."""
    actor = current_actor()
    employee_service.require_admin(actor)
    form = _employee_form(EmployeeForm(data={"roles": ["requester"]}))

    def save():
        employee = employee_service.create_employee(db.session, actor,
                                                    form.as_input(creating=True))
        flash(_("%(name)s has been added to the employee register.", name=employee.name),
              "info")
        return employee
    return _save(form, save)


@bp.route("/<username>/edit", methods=["GET", "POST"])
def edit(username: str):
    actor = current_actor()
    employee_service.require_admin(actor)
    employee = register.get_employee(db.session, actor, username)
    if not employee.active:
        raise Conflict(_l("%(username)s has left; a returning employee gets a new account",
                         username=username))
    form = _employee_form(EmployeeForm(data={
        "username": employee.username, "name": employee.name, "email": employee.email,
        "centre": employee.centre.code, "title": employee.title, "roles": employee.roles}))
    form.username.data = employee.username  # not changed here: it is the person's key

    def save():
        changed = employee_service.update_employee(db.session, actor, username,
                                                   form.as_input(creating=False))
        flash(_("The changes to %(name)s have been saved.", name=changed.name), "info")
        return changed
    return _save(form, save, employee)


@bp.get("/<username>")
def detail(username: str):
    actor = current_actor()
    employee = register.get_employee(db.session, actor, username)
    grants = register.grants_of(db.session, employee)
    return render_template("employees/detail.html", employee=employee, grants=grants,
                           viewable={g.id for g in grants if can_view_grant(actor, g)},
                           form=EmptyForm(), today=clock.today(),
                           can_edit=can_administer_people(actor) and employee.active,
                           can_mark_left=employee_service.can_mark_left(actor, employee),
                           acknowledged=grant_service.acknowledgements_of(db.session,
                                                                          employee.id))


@bp.post("/<username>/leave")
def leave(username: str):
    """A leaver: every access ends at once and becomes a removal task."""
    employee_service.require_admin(current_actor())
    if EmptyForm().validate_on_submit():
        if request.form.get("confirm") != "yes":
            flash(_("Nothing was changed: tick the box to confirm that the employee has "
                    "left."), "error")
            return redirect(url_for("employees.detail", username=username) + "#leave")
        try:
            last_day = (request.form.get("left_on") or "").strip()
            leaver = employee_service.update_employee(
                db.session, current_actor(), username,
                {"status": "left", **({"left_on": last_day} if last_day else {})})
        except InvalidInput as error:   # marking oneself: said on the person's page
            db.session.rollback()
            flash(str(error.message), "error")
            return redirect(url_for("employees.detail", username=username) + "#leave")
        db.session.commit()
        username = leaver.username   # as the register holds it, whatever the address said
        flash(_("%(name)s is marked as having left; all access is revoked.", name=username),
              "info")
        held = register.vacancies(db.session, username)
        if held:
            flash(_("%(name)s is still named in the register: %(duties)s. %(remedy)s",
                    name=username, duties="; ".join(duty_text(v) for v in held),
                    remedy=" ".join(dict.fromkeys(duty_remedy(v) for v in held))), "error")
    return redirect(url_for("employees.detail", username=username))
