"""Grants: one access, the user administrator's tasks, carrying out and revoking."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..services import clock, evaluation, listing, register, reports
from ..services import grants as grant_service
from ..services.errors import Forbidden, InvalidInput
from . import PER_PAGE, current_actor, expired_form_message, page_arg
from .forms import EmptyForm, RevokeForm
from .reports import download

bp = Blueprint("grants", __name__, url_prefix="/grants")


@bp.get("/")
def index():
    actor = current_actor()
    if not actor.has_role("approver", "dpo", "admin", "user_admin"):
        raise Forbidden(_l("Only approvers, user administrators, the DPO and admins see the "
                          "register of grants"))
    status = grant_service.status_filter(request.args.get("status") or None)
    system = grant_service.system_filter(db.session, request.args.get("system"))
    rows, total = grant_service.visible_grant_rows(db.session, actor, status=status,
                                                   system=system, page=page_arg(),
                                                   per_page=PER_PAGE)
    return render_template("grants/index.html", grants=rows, total=total, status=status,
                           system=system, page=page_arg(), per_page=PER_PAGE,
                           pager_args={k: v for k, v in (("status", status), ("system", system))
                                       if v})


def _held_args():
    """Who may ask who held access (approvers, the DPO, admins), and the system and day
    asked about: ?system=, and ?date= as the form sends it or ?as_of= as elsewhere."""
    actor = current_actor()
    grant_service.require_point_in_time(actor)
    # A system the register does not hold is a 400, not an empty answer ("nobody").
    code = grant_service.system_filter(db.session, request.args.get("system"))
    field = "date" if request.args.get("date") else "as_of"
    given = request.args.get(field)
    return actor, code, clock.parse_date(given, field) if given else None


@bp.get("/at")
def point_in_time():
    """Who could access system X on date D, approved by whom, for which tasks."""
    status = 200
    try:
        actor, code, day = _held_args()
    except InvalidInput as error:   # said above the form, which stays (not a page of its own)
        flash(str(error.message), "error")
        actor, code, day, status = current_actor(), None, None, 400
    systems = register.system_names(db.session)
    rows, total = [], 0
    if day:   # one system, or every system (with a column naming each access's system)
        rows, total = grant_service.visible_grant_rows(
            db.session, actor, system=code, as_of=day, page=page_arg(), per_page=PER_PAGE,
            columns=listing.HELD_COLUMNS if code else listing.HELD_EXPORT_COLUMNS)
    return render_template("grants/at.html", systems=systems, code=code, day=day, rows=rows,
                           total=total, page=page_arg(), per_page=PER_PAGE), status


@bp.get("/at.csv", defaults={"fmt": "csv"})
@bp.get("/at.xlsx", defaults={"fmt": "xlsx"})
def point_in_time_download(fmt: str):
    """The whole answer of the point-in-time page, for the inspector's file: one system,
    or every system when none is named; today when no day is."""
    actor, code, day = _held_args()
    day = day or clock.today()
    rows, _total = grant_service.visible_grant_rows(db.session, actor, system=code, as_of=day,
                                                    per_page=None,
                                                    columns=listing.HELD_EXPORT_COLUMNS)
    return download(reports.held_table(day, rows), fmt,
                    f"held-{code + '-' if code else ''}{day}")


@bp.get("/tasks")
def tasks():
    to_create, to_remove = grant_service.tasks_for(db.session, current_actor())
    return render_template("grants/tasks.html", to_create=to_create, to_remove=to_remove,
                           disallowed=evaluation.disallowed(db.session, to_create))


@bp.get("/<id:grant_id>")
def detail(grant_id: int, revoke_form: RevokeForm | None = None):
    actor = current_actor()
    grant = grant_service.view_grant(db.session, actor, grant_id)
    return render_template("grants/detail.html", grant=grant,
                           findings=evaluation.findings_for(db.session, grant),
                           revoke_form=revoke_form or RevokeForm(formdata=None),
                           can_revoke=grant_service.can_revoke(db.session, actor, grant)
                           and grant.status in grant_service.LIVE,
                           can_fulfil=grant_service.can_fulfil(actor, grant))


@bp.post("/<id:grant_id>/fulfil")
def fulfil(grant_id: int):
    if EmptyForm().validate_on_submit():
        grant = grant_service.fulfil(db.session, current_actor(), grant_id)
        db.session.commit()
        flash(_("Recorded as removed from the system.") if grant.removed_at
              else _("Recorded as created in the system."), "info")
    return redirect(request.form.get("back") == "tasks" and url_for("grants.tasks")
                    or url_for("grants.detail", grant_id=grant_id))


@bp.post("/<id:grant_id>/revoke")
def revoke(grant_id: int):
    actor = current_actor()
    grant_service.require_revoker(db.session, actor, grant_id)  # refused (and audited) first
    form = RevokeForm()
    if not form.validate_on_submit():
        # The page again with the reason as typed and what is wrong with it on the field.
        if not form.reason.errors:   # the CSRF token, not the reason
            flash(expired_form_message(), "error")
        return detail(grant_id, revoke_form=form), 400
    grant_service.revoke(db.session, actor, grant_id, form.reason.data)
    db.session.commit()
    flash(_("The access has been revoked."), "info")
    return redirect(url_for("grants.detail", grant_id=grant_id))
