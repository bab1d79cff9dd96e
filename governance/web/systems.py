"""The systems: what each holds, what can be granted, who approves, whom to contact."""
from flask import Blueprint, render_template

from ..extensions import db
from ..services import policies, register

bp = Blueprint("systems", __name__, url_prefix="/systems")


@bp.get("/")
def index():
    return render_template("systems/index.html", systems=register.list_systems(db.session))


@bp.get("/<code>")
def detail(code: str):
    system = register.get_system(db.session, code)
    in_force = policies.in_force(db.session).policies
    covering = [(p, p.systems[system.code]) for p in in_force.values()
                if system.code in p.systems]
    return render_template("systems/detail.html", system=system, covering=covering)
