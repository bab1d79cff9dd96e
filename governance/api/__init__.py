"""The JSON API under /api/v1: thin, over the same services as the pages."""
from __future__ import annotations

import re
from functools import lru_cache

from flask import Blueprint, Flask, g, jsonify, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from ..errors import json_error
from ..extensions import csrf, db
from ..services import auth as auth_service
from ..services.actor import Actor
from ..services.listing import MAX_PAGE
from ..web import SAFE_METHODS, lock_for_writing

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC = {"api.openapi"}
# POSTs that change nothing (the rule results of a proposed request): they do not queue for
# the audit chain's lock.
READS_BY_POST = {"api.check_request"}


@bp.before_request
def authenticate():
    """Bearer token, or the browser's session (then with CSRF on anything that writes)."""
    if request.endpoint in PUBLIC:
        return None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        employee, touched = (auth_service.employee_for_token(db.session, token.strip())
                             if scheme.lower() == "bearer" and token.strip() else (None, False))
        if touched and request.method in SAFE_METHODS:
            # A read ends its one write at once (a change commits it with the change). It is
            # only "last used": if the database is busy, the read goes on without it.
            try:
                db.session.commit()
            except OperationalError:
                db.session.rollback()
        if employee is None:
            return json_error(401, "unauthorized", str(_l(
                "The bearer token is missing, invalid or revoked, or its owner has left.")))
        g.api_employee = employee
    elif current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            csrf.protect()
        g.api_employee = current_user._get_current_object()
    else:
        return json_error(401, "unauthorized", str(_l(
            "Send the header 'Authorization: Bearer <token>'; an administrator creates a token "
            "with 'flask --app wsgi token create USERNAME'.")))
    g.actor = Actor.of(g.api_employee, request.remote_addr or "")
    if request.method not in SAFE_METHODS and "as_of" in request.args:
        # The audit trail must show when a change really happened, so a change cannot be
        # dated: ?as_of= only moves "today" for what is read.
        from ..services.errors import InvalidInput
        raise InvalidInput(_l("as_of applies to reading only: a change is recorded at the "
                              "moment it is made"), field="as_of")
    check_query()
    if request.method not in SAFE_METHODS and request.endpoint not in READS_BY_POST:
        lock_for_writing()   # once the caller is known: no lock for a 401
    return None


def check_query() -> None:
    """A query parameter the operation does not take is a 400 that names it, as an unknown
    field in a body is: `?centre=` ignored would look like a filtered list."""
    allowed = _query_names().get((_spec_path(), request.method.lower().replace("head", "get")))
    if allowed is None:
        return
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        from ..services.errors import InvalidInput
        raise InvalidInput(_l("Unknown query parameter '%(name)s'; this takes: %(allowed)s",
                              name=unknown[0], allowed=", ".join(sorted(allowed)) or "-"),
                           field=unknown[0])


def _spec_path() -> str:
    """The matched route as the OpenAPI document writes it: /grants/{grant_id}."""
    rule = request.url_rule.rule if request.url_rule else ""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule[len(bp.url_prefix):])


@lru_cache(maxsize=1)
def _query_names() -> dict[tuple[str, str], frozenset[str]]:
    from .openapi import PATHS
    return {(path, method): frozenset(p["name"] for p in op.get("parameters", ())
                                      if p["in"] == "query")
            for path, item in PATHS.items() for method, op in item.items()}


@bp.after_request
def commit(response):
    """One commit per request: the change and its audit entry land together or not at all."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def answer_headers(response):
    """What every API answer says of itself: its language, which follows Accept-Language
    (so caches keep one per language), and for a 401 how to authenticate (RFC 7235)."""
    if request.blueprint == "api" or request.path.startswith(bp.url_prefix + "/"):
        response.headers["Content-Language"] = str(get_locale())
        response.vary.add("Accept-Language")
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def paginate_args() -> tuple[int, int]:
    """?page= (1 to MAX_PAGE) and ?per_page= (1 to 500); a bad one is a 400 naming it."""
    return _whole("page", 1, MAX_PAGE), _whole("per_page", 50, 500)


def _whole(name: str, default: int, high: int) -> int:
    from ..services.errors import InvalidInput
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= high:
        raise InvalidInput(_l("%(name)s must be a whole number from 1 to %(high)s", name=name,
                              high=high), field=name)
    return value


def listing(items: list, total: int):
    """A page of a list, with the paging it was asked for."""
    page, per_page = paginate_args()
    return jsonify({"items": items, "total": total, "page": page, "per_page": per_page})


def init_app(app: Flask) -> None:
    from . import audit, openapi, routes, workflow  # noqa: F401  (routes register on bp)

    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.after_request(answer_headers)  # the app's, so that 404s and 405s get them too
