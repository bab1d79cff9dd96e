"""My overview: my grants and what I may do."""
from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db
from ..services import register
from ..services import grants as grant_service
from ..services import requests as request_service
from ..services.permissions import abilities
from . import current_actor

bp = Blueprint("overview", __name__)

ABILITY_TEXT = {
    "view_own_grants": _l("See my own access and when it is next reviewed"),
    "view_systems": _l("See the systems, what they hold and whom to contact"),
    "view_principles": _l("Read the principles for looking up citizens"),
    "request_access": _l("Request access for myself or a colleague"),
    "decide_requests": _l("Approve or reject requests as a named approver"),
    "review_grants": _l("Review access at least once a year"),
    "fulfil_grants": _l("Record access created in or removed from my systems"),
    "view_people": _l("See the employee register and everyone's access"),
    "read_audit": _l("Read the audit trail and verify it"),
    "administer_people": _l("Maintain employees and centres, and mark leavers"),
}


@bp.get("/")
def index():
    grants = register.grants_of(db.session, current_user)
    waiting = [g for g in grants if g.awaits_acknowledgement]
    # P3: someone with active access is told when the yearly acknowledgement is about to
    # lapse or has lapsed, as `reviews remind` tells them by e-mail.
    renewal = None
    if any(g.status == "active" for g in grants):
        ack = grant_service.acknowledgement_status(db.session, current_user.id)
        renewal = ack if ack.acknowledged_on and ack.renewal_due else None
    actor = current_actor()
    to_decide, own_pending = request_service.waiting(db.session, actor)
    tasks = (grant_service.task_counts(db.session, actor) if actor.has_role("user_admin")
             else (0, 0))
    return render_template("overview/index.html", grants=grants, waiting=waiting,
                           to_decide=to_decide, own_pending=own_pending,
                           tasks=tasks,
                           renewal=renewal,
                           abilities=abilities(current_actor()), ability_text=ABILITY_TEXT)
