"""Requests for access: the form with rule feedback, the queue, and deciding."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..domain.policy import allowed_in
from ..errors import record_refusal
from ..extensions import db
from ..models import Employee, Grant, System
from ..services import grants as grant_service
from ..services import policies
from ..services import requests as request_service
from ..services.errors import Conflict, InvalidInput, RuleViolation
from . import PER_PAGE, current_actor, page_arg, show_on_field
from .forms import DecisionForm, EmptyForm, RequestForm

bp = Blueprint("requests", __name__, url_prefix="/requests")


@bp.get("/")
def index():
    actor = current_actor()
    status = request_service.status_filter(request.args.get("status"))
    page, queue_page = page_arg(), page_arg("queue_page")
    queue, queued = (request_service.pending_for(db.session, actor, page=queue_page,
                                                 per_page=PER_PAGE)
                     if actor.has_role("approver") else ([], 0))
    rows, total = request_service.visible_request_rows(db.session, actor, status=status,
                                                       page=page, per_page=PER_PAGE)
    # Each list pages on its own; its links keep the other list where it is.
    kept = {"status": status} if status else {}
    return render_template("requests/index.html", queue=queue, queued=queued,
                           queue_page=queue_page, rows=rows, total=total, status=status,
                           page=page, per_page=PER_PAGE,
                           queue_pager_args={**kept, **({"page": page} if page > 1 else {})},
                           pager_args={**kept, **({"queue_page": queue_page}
                                                  if queue_page > 1 else {})})


def _mark_what_the_policy_refuses(form: RequestForm, system: System, in_force) -> None:
    """A level or scope that no policy in force allows in the system (P4) stays offered,
    so that the check can say why, but says so beside it before anyone checks."""
    levels_and_scopes = allowed_in(in_force, system.code)
    if levels_and_scopes is None:
        return
    for field, allowed in zip((form.access_level, form.scope), levels_and_scopes):
        field.choices = [(value, text if value in allowed else
                          _("%(choice)s (the policy does not allow it in %(system)s)",
                            choice=text, system=system.code))
                         for value, text in field.choices]


def _request_form() -> tuple[RequestForm, System | None]:
    actor = current_actor()
    form = RequestForm()
    people = db.session.scalars(select(Employee).where(Employee.status == "active")
                                .order_by(Employee.name)).all()
    form.grantee.choices = [(p.username, f"{p.name} ({p.username}, {p.centre.code})")
                            for p in people]
    if not form.grantee.data:
        form.grantee.data = actor.username
    covered = set()
    in_force = sorted(policies.in_force(db.session).policies.values(), key=lambda p: p.id)
    english = str(get_locale()) == "en"
    form.purpose.choices = [(p.id, p.name_en if english else p.name_da) for p in in_force]
    if len(in_force) == 1:
        form.purpose.data = form.purpose.data or in_force[0].id
    else:
        # Several: the requester chooses (none is taken for them); none: the service says
        # that no policy is in force yet.
        form.purpose.choices.insert(0, ("", _("Choose the purpose") if in_force else ""))
    for policy in in_force:
        covered |= set(policy.systems)
    systems = db.session.scalars(select(System).order_by(System.code)).all()
    form.system.choices = [(s.code, f"{s.code} – {s.name}") for s in systems
                           if s.code in covered]
    chosen = form.system.data or request.args.get("system")
    system = next((s for s in systems if s.code == (chosen or "").upper()), None)
    if chosen and system is None and request.method == "GET":
        # A link or a typed address naming a system the register does not hold: said, and
        # the requester chooses below (not a form that silently forgot it).
        flash(_("The register holds no system '%(code)s'; choose one below.", code=chosen),
              "error")
    if system is not None:
        form.system.data = system.code
        _mark_what_the_policy_refuses(form, system, in_force)
        never = {"special": _("special category, art. 9: cannot be granted"),
                 "criminal": _("art. 10: cannot be granted")}
        form.data_categories.choices = [
            (c.code, (c.name_en if english else c.name_da) +
             (f" ({never[c.kind]})" if c.kind in never else ""))
            for c in system.categories]
    return form, system


@bp.route("/new", methods=["GET", "POST"])
def new():
    actor = current_actor()
    form, system = _request_form()
    if not actor.has_role("requester"):
        from ..services.errors import Forbidden
        raise Forbidden(_l("Only employees with the requester role can request access"))
    result, status = None, 200
    if request.method == "POST" and system is not None and form.validate_on_submit():
        try:
            data = request_service.parse_request_input(form.as_input(), actor)
            if request.form.get("action") == "submit":
                req, _result = request_service.request_access(db.session, actor, data)
                db.session.commit()
                flash(_("Your request has been sent to the approvers."), "info")
                return redirect(url_for("requests.detail", request_id=req.id))
            result = request_service.evaluate(db.session, actor, data)
        except RuleViolation as error:
            db.session.rollback()
            record_refusal(error)
            result = request_service.evaluate(db.session, actor, data)
            status = 422
        except InvalidInput as error:
            db.session.rollback()
            show_on_field(form, error)
            status = 400
    elif request.method == "POST" and form.errors:
        status = 400
    db.session.rollback()   # nothing written: the chain's lock is not held while rendering
    return render_template("requests/new.html", form=form, system=system, result=result,
                           not_sent=status == 422 and request.form.get("action") == "submit"
                           ), status


@bp.get("/<id:request_id>")
def detail(request_id: int):
    return _detail(request_id)


def _awaited_text(req) -> str:
    """Whose approval a pending request waits for: 'Klaus Fisker or Tina Koudal' when
    either will do, 'and' when it needs them all."""
    names = request_service.awaited_from(db.session, req)
    if len(names) < 2:
        return "".join(names)
    still = req.approvals_needed - sum(d.decision == "approve" for d in req.decisions)
    first, last = ", ".join(names[:-1]), names[-1]
    return (_("%(first)s or %(last)s", first=first, last=last) if still < len(names)
            else _("%(first)s and %(last)s", first=first, last=last))


def _detail(request_id: int, decision_form: DecisionForm | None = None, status: int = 200):
    actor = current_actor()
    req = request_service.get_request(db.session, actor, request_id)
    checks = (request_service.current_checks(db.session, actor, req)
              if req.status == "pending" else [])
    can_decide = (req.status == "pending" and actor.has_role("approver")
                  and request_service.can_decide(db.session, actor, req))
    grant = db.session.scalar(select(Grant).where(Grant.request_id == req.id))
    if grant is not None and not grant_service.can_view_grant(actor, grant):
        grant = None  # a requester for a colleague is not offered a page that refuses them
    return render_template("requests/detail.html", req=req, checks=checks, grant=grant,
                           can_decide=can_decide, form=decision_form or DecisionForm(),
                           can_withdraw=req.status == "pending" and actor.employee_id in (
                               req.requester_id, req.grantee_id),
                           withdrawal=request_service.withdrawal(db.session, req)
                           if req.status == "withdrawn" else None,
                           awaited_from=_awaited_text(req),
                           approvals_given=sum(d.decision == "approve" for d in req.decisions),
                           button_form=EmptyForm()), status


@bp.post("/<id:request_id>/decision")
def decide(request_id: int):
    form = DecisionForm()
    decision = request.form.get("decision")
    if not form.validate_on_submit():
        return _detail(request_id, form, 400)
    try:
        request_service.decide(db.session, current_actor(), request_id, decision or "",
                               form.comment.data or "")
    except InvalidInput as error:
        db.session.rollback()
        form.comment.errors = [*form.comment.errors, str(error.message)]
        return _detail(request_id, form, 400)
    except Conflict as error:
        # Decided by someone else meanwhile: the request as it stands now, and the comment
        # that was not recorded, so that nothing written is lost.
        db.session.rollback()
        flash(str(error.message), "error")
        if (form.comment.data or "").strip():
            flash(_("Your comment was not recorded: %(comment)s",
                    comment=form.comment.data.strip()), "error")
        return _detail(request_id, DecisionForm(formdata=None), 409)
    db.session.commit()
    flash(_("Your decision has been recorded."), "info")
    return redirect(url_for("requests.detail", request_id=request_id))


@bp.post("/<id:request_id>/withdraw")
def withdraw(request_id: int):
    if EmptyForm().validate_on_submit():
        if request.form.get("confirm") != "yes":
            flash(_("Nothing was changed: tick the box to confirm that the request is to be "
                    "withdrawn."), "error")
            return redirect(url_for("requests.detail", request_id=request_id))
        request_service.withdraw(db.session, current_actor(), request_id)
        db.session.commit()
        flash(_("The request has been withdrawn."), "info")
    return redirect(url_for("requests.detail", request_id=request_id))
