"""The seven principles, in plain Danish, with how the product enforces each."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..extensions import db
from ..services import grants, policies
from . import current_actor, policy_names
from .forms import EmptyForm

bp = Blueprint("principles", __name__, url_prefix="/principles")


@bp.get("/")
def index():
    in_force = policies.in_force(db.session)
    ack = grants.acknowledgement_status(db.session, current_actor().employee_id)
    return render_template(
        "principles/index.html", principles=in_force.principles, policies=in_force.policies,
        acknowledged=ack.acknowledged_on, current=ack.current,
        principles_changed=ack.current and ack.principles_changed,
        renewal_due=(ack.renewal_due or ack.principles_changed)
        and grants.may_acknowledge(db.session, current_actor()),
        renew_by=ack.lapses, form=EmptyForm(), policy_names=policy_names(in_force))


@bp.post("/acknowledge")
def acknowledge():
    """P3: the employee acknowledges the lookup principles; waiting access becomes active."""
    if EmptyForm().validate_on_submit():
        grants.acknowledge(db.session, current_actor())
        db.session.commit()
        flash(_("Thank you. Your acknowledgement of the lookup principles is recorded."),
              "info")
    return redirect(url_for("principles.index"))
