"""The audit trail for the DPO and the administrator: filters, and the chain check."""
from __future__ import annotations

import json

from flask import Blueprint, flash, render_template, request

from ..extensions import db
from ..services import audit_trail
from ..services.audit import parse_anchor, verify_chain
from ..services.reconcile import reconcile_grants
from ..services.errors import InvalidInput
from . import current_actor, page_arg

bp = Blueprint("audit", __name__, url_prefix="/audit")
PER_PAGE = 100


@bp.get("/")
def index():
    actor = current_actor()
    audit_trail.require_reader(actor)
    page, status = page_arg(), 200
    try:
        filters = audit_trail.parse_filters(request.args)
    except InvalidInput as error:
        # Said above the filters, with what was typed still in them (not a page of its own).
        flash(str(error.message), "error")
        filters, status = None, 400
    rows, total = audit_trail.search(db.session, actor, filters, page=page,
                                     per_page=PER_PAGE) if filters else ([], 0)
    kept = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template("audit/index.html", rows=rows, total=total, page=page,
                           per_page=PER_PAGE, filters=filters or audit_trail.AuditFilters(),
                           args=request.args,
                           pager_args=kept, actions=audit_trail.ACTIONS,
                           object_types=audit_trail.OBJECT_TYPES,
                           without_principle={k: v for k, v in kept.items()
                                              if k != "principle"},
                           details=lambda e: json.dumps(json.loads(e.details), indent=1,
                                                        ensure_ascii=False)), status


@bp.get("/verify")
def verify():
    audit_trail.require_reader(current_actor())
    anchor, status = request.args.get("anchor", "").strip(), 200
    try:
        noted = parse_anchor(anchor or None)   # the form's empty field: no anchor
    except InvalidInput as error:
        flash(str(error.message), "error")   # said on the form, as typed
        noted, status = None, 400
    report = verify_chain(db.session, anchor=noted)
    return render_template("audit/verify.html", report=report, anchor=anchor,
                           noted=noted, register=reconcile_grants(db.session)), status
