"""The centres and their managers; the administrator adds and changes them."""
from flask import Blueprint, flash, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Employee
from ..services import centres as centre_service
from ..services import employees as employee_service
from ..services.permissions import can_administer_people
from . import current_actor, save_form
from .forms import CentreForm

bp = Blueprint("centres", __name__, url_prefix="/centres")


@bp.get("/")
def index():
    actor = current_actor()
    return render_template("centres/index.html",
                           rows=centre_service.list_centres(db.session, actor),
                           can_edit=can_administer_people(actor))


def _form(form: CentreForm, centre=None) -> CentreForm:
    people = db.session.execute(select(Employee.username, Employee.name)
                                .where(Employee.status == "active")
                                .order_by(Employee.name)).all()
    form.manager.choices = [("", _("No manager"))] + [
        (username, f"{name} ({username})") for username, name in people]
    manager = centre.manager if centre is not None else None
    if manager is not None and not manager.active:
        # Still named, though they have left: offered as they are, so that saving another
        # change keeps them until the administrator chooses a successor.
        form.manager.choices.insert(1, (manager.username, _(
            "%(name)s (%(username)s), has left", name=manager.name,
            username=manager.username)))
    return form


def _save(form: CentreForm, save, centre=None):
    return save_form(form, save, "centres/form.html",
                     lambda saved: url_for("centres.index") + f"#centre-{saved.code}",
                     centre=centre)


@bp.route("/new", methods=["GET", "POST"])
def new():
    actor = current_actor()
    employee_service.require_admin(actor)
    form = _form(CentreForm())

    def save():
        centre = centre_service.create_centre(db.session, actor, form.as_input(creating=True))
        flash(_("The centre %(code)s has been added.", code=centre.code), "info")
        return centre
    return _save(form, save)


@bp.route("/<centre_code>/edit", methods=["GET", "POST"])
def edit(centre_code: str):
    actor = current_actor()
    employee_service.require_admin(actor)
    centre = centre_service.get_centre(db.session, centre_code)
    form = _form(CentreForm(data={"code": centre.code, "name": centre.name,
                                  "manager": centre.manager.username if centre.manager
                                  else ""}), centre)
    form.code.data = centre.code  # the centre's key: not changed here

    def save():
        changed = centre_service.update_centre(db.session, actor, centre_code,
                                               form.as_input(creating=False))
        flash(_("The changes to %(code)s have been saved.", code=changed.code), "info")
        return changed
    return _save(form, save, centre)
