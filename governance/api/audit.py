"""API for the audit trail: DPO and admin only."""
from __future__ import annotations

from flask import g, jsonify, request

from ..extensions import db
from ..services import audit_trail
from ..services.audit import parse_anchor, verify_chain
from ..services.reconcile import reconcile_grants
from . import bp, listing, paginate_args


def entry_json(entry) -> dict:
    import json
    return {"id": entry.id, "created_at": entry.created_at.isoformat(), "actor": entry.actor,
            "action": entry.action, "object_type": entry.object_type,
            "object_id": entry.object_id, "summary": entry.summary,
            "details": json.loads(entry.details), "client_address": entry.client_address,
            "hash": entry.hash, "prev_hash": entry.prev_hash}


@bp.get("/audit")
def audit_entries():
    page, per_page = paginate_args()
    filters = audit_trail.parse_filters(request.args)
    rows, total = audit_trail.search(db.session, g.actor, filters, page=page,
                                     per_page=per_page)
    return listing([entry_json(e) for e in rows], total)


@bp.get("/audit/verify")
def audit_verify():
    audit_trail.require_reader(g.actor)
    anchor = parse_anchor(request.args.get("anchor"))
    register = reconcile_grants(db.session)
    return jsonify({**verify_chain(db.session, anchor=anchor).as_dict(),
                    "register": {"ok": register.ok, "grants": register.grants,
                                 "differences": [m.describe()
                                                 for m in register.mismatches[:100]]}})
