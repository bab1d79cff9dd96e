"""API for the access workflow: requests, decisions, grants, acknowledgements, the HR feed."""
from __future__ import annotations

import json
import unicodedata
from flask import g, jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from ..domain.vocabulary import unstorable
from ..extensions import db
from ..models import AccessRequest, Grant
from ..services import employees as employee_service
from ..services import evaluation
from ..services import register
from ..services import grants as grant_service
from ..services import requests as request_service
from ..services import reviews as review_service
from ..services.clock import parse_as_of
from ..services.errors import Forbidden, InvalidInput
from . import bp, listing, paginate_args
from .routes import employee_json


def body(allowed: tuple[str, ...] | None = None) -> dict:
    """The request's JSON object. With `allowed`, any other field is a 400 that names it;
    so is text that cannot be stored (a NUL character, or half of a surrogate pair)."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        raise InvalidInput(_l("The JSON body is nested too deeply")) from None
    if data is None and request.is_json and request.get_data(cache=True).strip():
        try:
            json.loads(request.get_data(cache=True))
        except RecursionError:
            raise InvalidInput(_l("The JSON body is nested too deeply")) from None
        except ValueError as error:
            line, column = getattr(error, "lineno", None), getattr(error, "colno", None)
            if line is None:  # not UTF-8 text at all
                raise InvalidInput(_l("The body is not valid JSON: it is not UTF-8 "
                                      "text")) from None
            raise InvalidInput(_l("The body is not valid JSON: %(problem)s at line %(line)s, "
                                  "column %(column)s", problem=error.msg, line=line,
                                  column=column)) from None
    if not isinstance(data, dict):
        raise InvalidInput(_l("Send a JSON object with Content-Type: application/json"))
    if allowed is not None:
        unknown = sorted(set(data) - set(allowed))
        if unknown and not allowed:
            raise InvalidInput(_l("This takes no fields: leave out '%(field)s' and send an "
                                  "empty body", field=unknown[0]), field=unknown[0])
        if unknown:
            raise InvalidInput(_l("Unknown field '%(field)s'; expected: %(allowed)s",
                                  field=unknown[0], allowed=", ".join(allowed)),
                               field=unknown[0])
    try:
        data = _nfc(data)   # one spelling of æ, ø and å, whatever the sender's
    except RecursionError:
        raise InvalidInput(_l("The JSON body is nested too deeply")) from None
    for key, value in data.items():
        bad = unstorable_in(key) or unstorable_in(value)
        if bad:
            raise InvalidInput(_l("'%(field)s' holds a character that cannot be stored "
                                  "(%(char)s, a control character or half of a surrogate "
                                  "pair): remove it", field=str(key), char=bad),
                               field=str(key))
    return data


def no_body() -> None:
    """For a POST that takes no fields: an empty body, or one whose every field is named
    as unknown."""
    if request.get_data(cache=True).strip():
        body(())


def _nfc(value):
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(item) for item in value]
    if isinstance(value, dict):
        return {_nfc(key): _nfc(item) for key, item in value.items()}
    return value


def unstorable_in(value) -> str | None:
    """The first character that no text in a parsed JSON value may hold (see
    `vocabulary.unstorable`), written like "U+0007"; or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            bad = unstorable(item)
            if bad:
                return bad
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def iso(value):
    return value.isoformat() if value else None


def request_json(req: AccessRequest) -> dict:
    grant = db.session.query(Grant.id).filter(Grant.request_id == req.id).scalar()
    return {
        "id": req.id, "status": req.status, "requester": req.requester.username,
        "grantee": req.grantee.username, "system": req.system.code,
        "access_level": req.access_level, "scope": req.scope, "purpose": req.purpose,
        "tasks": req.tasks, "frequency": req.frequency,
        "data_categories": list(req.data_categories),
        "write_justification": req.write_justification,
        "approvals_needed": req.approvals_needed, "created_at": iso(req.created_at),
        "decided_at": iso(req.decided_at), "grant_id": grant,
        "decisions": [{"approver": d.approver.username, "decision": d.decision,
                       "comment": d.comment, "decided_at": iso(d.decided_at)}
                      for d in req.decisions],
    }


def grant_json(grant: Grant) -> dict:
    return {
        "id": grant.id, "request_id": grant.request_id, "grantee": grant.grantee.username,
        "system": grant.system.code, "access_level": grant.access_level, "scope": grant.scope,
        "purpose": grant.purpose, "tasks": grant.tasks, "frequency": grant.frequency,
        "data_categories": list(grant.data_categories), "status": grant.status,
        "approved_at": iso(grant.approved_at), "fulfilled_at": iso(grant.fulfilled_at),
        "activated_at": iso(grant.activated_at),
        # An ended access is due for no review (the pages and the register export agree).
        "review_due": None if grant.ended_at else iso(grant.review_due),
        "ended_at": iso(grant.ended_at), "end_reason": grant.end_reason,
        "removed_at": iso(grant.removed_at), "approved_by": grant_service.approved_by(grant),
        # Created in the system, and active once the grantee acknowledges the lookup
        # principles (P3): why a fulfilled grant is still 'approved'.
        "awaits_acknowledgement": grant.awaits_acknowledgement,
    }


def checks_json(checks) -> list[dict]:
    locale = str(get_locale())
    return [check.as_dict(locale) for check in checks]


@bp.post("/requests")
def create_request():
    data = request_service.parse_request_input(body(), g.actor)
    req, result = request_service.request_access(db.session, g.actor, data)
    return jsonify({**request_json(req), "eligible_approvers": result.eligible_approvers,
                    "checks": checks_json(result.checks)}), 201, {
        "Location": url_for("api.get_request", request_id=req.id)}


@bp.post("/requests/check")
def check_request():
    """The rule results for a proposed request, without filing it; refused, as filing is,
    to a caller who may not request access."""
    request_service.require_requester(g.actor)
    data = request_service.parse_request_input(body(), g.actor)
    result = request_service.evaluate(db.session, g.actor, data)
    return jsonify({"passed": result.passed, "eligible_approvers": result.eligible_approvers,
                    "approvals_needed": result.approvals_needed,
                    "checks": checks_json(result.checks)})


@bp.get("/requests")
def list_requests():
    page, per_page = paginate_args()
    status = request_service.status_filter(request.args.get("status"))
    rows, total = request_service.visible_requests(db.session, g.actor, status=status,
                                                   page=page, per_page=per_page)
    return listing([request_json(r) for r in rows], total)


@bp.get("/requests/<id:request_id>")
def get_request(request_id: int):
    req = request_service.get_request(db.session, g.actor, request_id)
    result = request_json(req)
    if req.status == "pending":
        result["checks"] = checks_json(request_service.current_checks(db.session, g.actor, req))
    return jsonify(result)


@bp.post("/requests/<id:request_id>/decision")
def decide(request_id: int):
    data = body(("decision", "comment"))
    decision, comment = data.get("decision"), data.get("comment", "")
    if not isinstance(comment, str):
        raise InvalidInput(_l("'%(field)s' must be text", field="comment"), field="comment")
    req = request_service.decide(db.session, g.actor, request_id, decision, comment)
    return jsonify(request_json(req))


@bp.post("/requests/<id:request_id>/withdraw")
def withdraw(request_id: int):
    no_body()
    return jsonify(request_json(request_service.withdraw(db.session, g.actor, request_id)))


@bp.get("/grants")
def list_grants():
    page, per_page = paginate_args()
    status = grant_service.status_filter(request.args.get("status"))
    as_of = parse_as_of(request.args["as_of"]) if request.args.get("as_of") else None
    system = grant_service.system_filter(db.session, request.args.get("system"))
    grant_service.check_filters(db.session, None, request.args.get("grantee"))
    rows, total = grant_service.visible_grants(
        db.session, g.actor, page=page, per_page=per_page, system=system,
        grantee=request.args.get("grantee"), status=status, as_of=as_of)
    return listing([grant_json(x) for x in rows], total)


@bp.get("/grants/<id:grant_id>")
def get_grant(grant_id: int):
    grant = grant_service.view_grant(db.session, g.actor, grant_id)
    # What the access fails today (a lapsed acknowledgement, an overdue review, a rule
    # the policy in force no longer allows), as the DPO's re-evaluation finds it.
    findings = evaluation.findings_for(db.session, grant, parse_as_of(request.args.get("as_of")))
    return jsonify({**grant_json(grant), "findings": [
        {k: v for k, v in check.as_dict(str(get_locale())).items() if k != "passed"}
        for check in findings]})


@bp.post("/grants/<id:grant_id>/fulfil")
def fulfil(grant_id: int):
    no_body()
    return jsonify(grant_json(grant_service.fulfil(db.session, g.actor, grant_id)))


@bp.post("/grants/<id:grant_id>/revoke")
def revoke(grant_id: int):
    reason = body(("reason",)).get("reason", "")
    if not isinstance(reason, str):
        raise InvalidInput(_l("'%(field)s' must be text", field="reason"), field="reason")
    return jsonify(grant_json(grant_service.revoke(db.session, g.actor, grant_id, reason)))


@bp.get("/tasks")
def tasks():
    to_create, to_remove = grant_service.tasks_for(db.session, g.actor)
    return jsonify({"to_create": [grant_json(x) for x in to_create],
                    "to_remove": [grant_json(x) for x in to_remove]})


@bp.post("/acknowledgements")
def acknowledge():
    no_body()
    ack = grant_service.acknowledge(db.session, g.actor)
    return jsonify({"employee": g.actor.username, "acknowledged_at": iso(ack.acknowledged_at),
                    "principles_sha256": ack.principles_sha256}), 201


@bp.post("/employees")
def create_employee():
    employee = employee_service.create_employee(db.session, g.actor, body())
    return jsonify(employee_json(employee)), 201, {
        "Location": url_for("api.employee", username=employee.username)}


@bp.patch("/employees/<username>")
def update_employee(username: str):
    employee = employee_service.update_employee(db.session, g.actor, username, body())
    result = employee_json(employee)
    if not employee.active:
        # What the leaver is still named as; until someone else is, that work is not done.
        result["still_named"] = [vacancy_json(v) for v in
                                 register.vacancies(db.session, employee.username)]
    return jsonify(result)


def vacancy_json(vacancy: register.Vacancy) -> dict:
    result = {"duty": vacancy.duty, "where": vacancy.where}
    if vacancy.duty == "contact":
        result["area"] = vacancy.area_key
    if vacancy.duty == "user_admin":
        result["uncovered"] = vacancy.uncovered
    return result


def review_json(row) -> dict:
    return {"id": row.id, "grant_id": row.grant_id, "reviewer": row.reviewer.username,
            "decision": row.decision, "comment": row.comment,
            "reviewed_on": iso(row.reviewed_on), "due_before": iso(row.due_before),
            "due_after": iso(row.due_after)}


@bp.post("/grants/<id:grant_id>/review")
def review_grant(grant_id: int):
    data = body(("decision", "comment"))
    comment = data.get("comment", "")
    if not isinstance(comment, str):
        raise InvalidInput(_l("'%(field)s' must be text", field="comment"), field="comment")
    row = review_service.review(db.session, g.actor, grant_id, data.get("decision"), comment)
    return jsonify({"review": review_json(row), "grant": grant_json(row.grant)})


@bp.get("/reviews/overdue")
def overdue_reviews():
    page, per_page = paginate_args()
    as_of = parse_as_of(request.args.get("as_of"))
    if not g.actor.has_role("approver", "dpo", "admin"):
        raise Forbidden(_l("Only the approvers, the DPO and admins see overdue reviews"))
    rows = review_service.overdue(db.session, as_of)
    items = [{**grant_json(x.grant), "due_on_day": x.due.isoformat(),
              "days_overdue": x.days(as_of),
              "finding": x.finding(as_of).as_dict(str(get_locale()))}
             for x in rows[(page - 1) * per_page: page * per_page]]
    return listing(items, len(rows))
