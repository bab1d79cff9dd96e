"""The seven principles, in plain Danish, with how the product enforces each."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..domain.rules import (acknowledgement_current, acknowledgement_lapses,
                            acknowledgement_renewal_due)
from ..extensions import db
from ..services import clock, grants, policies
from . import current_actor
from .forms import EmptyForm

bp = Blueprint("principles", __name__, url_prefix="/principles")


@bp.get("/")
def index():
    in_force = policies.in_force(db.session)
    actor = current_actor()
    acknowledged = grants.acknowledged_on(db.session, actor.employee_id)
    today = clock.today()
    return render_template(
        "principles/index.html", principles=in_force.principles, policies=in_force.policies,
        acknowledged=acknowledged, current=acknowledgement_current(acknowledged, today),
        renewal_due=acknowledgement_renewal_due(acknowledged, today), form=EmptyForm(),
        renew_by=acknowledgement_lapses(acknowledged) if acknowledged else None)


@bp.post("/acknowledge")
def acknowledge():
    """P3: the employee acknowledges the lookup principles; waiting access becomes active."""
    if EmptyForm().validate_on_submit():
        grants.acknowledge(db.session, current_actor())
        db.session.commit()
        flash(_("Thank you. Your acknowledgement of the lookup principles is recorded."),
              "info")
    return redirect(url_for("principles.index"))
