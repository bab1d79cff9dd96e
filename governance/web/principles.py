"""The seven principles, in plain Danish, with how the product enforces each."""
from flask import Blueprint, render_template

from ..extensions import db
from ..services import policies

bp = Blueprint("principles", __name__, url_prefix="/principles")


@bp.get("/")
def index():
    in_force = policies.in_force(db.session)
    return render_template("principles/index.html", principles=in_force.principles,
                           policies=in_force.policies)
