"""The JSON API under /api/v1: thin, over the same services as the pages."""
from __future__ import annotations

from flask import Blueprint, Flask, g, jsonify, request
from flask_login import current_user

from ..errors import json_error
from ..extensions import csrf, db
from ..services import auth as auth_service
from ..services.actor import Actor
from ..services.listing import MAX_PAGE

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC = {"api.openapi"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@bp.before_request
def authenticate():
    """Bearer token, or the browser's session (then with CSRF on anything that writes)."""
    if request.endpoint in PUBLIC:
        return None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        employee = (auth_service.employee_for_token(db.session, token.strip())
                    if scheme.lower() == "bearer" and token.strip() else None)
        if employee is None:
            return json_error(401, "unauthorized", "The bearer token is missing, invalid or "
                                                   "revoked, or its owner has left.")
        g.api_employee = employee
    elif current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            csrf.protect()
        g.api_employee = current_user._get_current_object()
    else:
        return json_error(401, "unauthorized", "Send 'Authorization: Bearer <token>'; "
                                               "create one with 'flask --app wsgi token "
                                               "create USERNAME'.")
    g.actor = Actor.of(g.api_employee, request.remote_addr or "")
    return None


@bp.after_request
def commit(response):
    """One commit per request: the change and its audit entry land together or not at all."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def paginate_args() -> tuple[int, int]:
    from ..services.errors import InvalidInput
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 50))
    except ValueError:
        raise InvalidInput("page and per_page must be whole numbers", field="page") from None
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= 500:
        raise InvalidInput(f"page must be between 1 and {MAX_PAGE}, per_page between 1 and "
                           f"500", field="per_page" if 1 <= page <= MAX_PAGE else "page")
    return page, per_page


def listing(items: list, total: int):
    return jsonify({"items": items, "total": total})


def init_app(app: Flask) -> None:
    from . import audit, openapi, routes, workflow  # noqa: F401  (routes register on bp)

    csrf.exempt(bp)
    app.register_blueprint(bp)
