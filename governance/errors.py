"""Error answers for people: Danish pages for the web, JSON for the API; never a trace."""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import force_locale, format_number, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from .domain.rules import failures
from .extensions import db
from .services import audit
from .services.errors import GovernanceError

log = logging.getLogger(__name__)

TITLES = {
    400: _l("What you sent could not be processed"),
    401: _l("Please log in"),
    403: _l("You do not have access to this page"),
    404: _l("The page was not found"),
    405: _l("That is not allowed here"),
    409: _l("This cannot be done as the register stands now"),
    413: _l("What you sent is too large"),
    422: _l("The rules do not allow this"),
    500: _l("Something went wrong on our side"),
    503: _l("The register is busy"),
}


def _sqlstate(error) -> str | None:
    """PostgreSQL's error code from the driver's error (SQLite gives none)."""
    return getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)


def _is_duplicate(error: IntegrityError) -> bool:
    """A unique constraint: PostgreSQL's 23505, SQLite's "UNIQUE constraint failed"."""
    return _sqlstate(error) == "23505" or "UNIQUE constraint failed" in str(error.orig)


def _is_contention(error: OperationalError) -> bool:
    """A lock not granted: SQLite's "database is locked", or PostgreSQL's deadlock (40P01),
    serialisation failure (40001) or lock timeout (55P03)."""
    return (_sqlstate(error) in ("40P01", "40001", "55P03")
            or "database is locked" in str(error.orig))


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def answer(status: int, code: str, message: str):
    """An error as JSON for the API, or as the error page with the status's title."""
    if wants_json():
        return json_error(status, code, message)
    return render_template("errors/error.html", status=status, title=str(TITLES[status]),
                           message=message), status


def _violation(check, locale: str) -> dict:
    result = check.as_dict(locale)
    result.pop("passed")
    return result


def record_refusal(error: GovernanceError) -> None:
    """Audit a refused attempt (403, or a rule refusal that carries its entry), then commit."""
    entry = error.audit
    with force_locale("en"):  # the audit trail keeps one language, whatever the reader's
        if entry is None and error.status == 403:
            entry = {"action": "access.denied", "object_type": "endpoint",
                     "object_id": (request.endpoint or request.path)[:64],
                     "summary": f"Refused {request.method} {request.path}: {error.message}",
                     "details": {"method": request.method, "path": request.path}}
        if entry is None:
            return
        entry = {**entry, "summary": str(entry["summary"])}  # record() keeps 500 characters
    actor = g.get("actor")
    username = actor.username if actor else (
        current_user.username if current_user.is_authenticated else "anonymous")
    log.warning("refused %s %s for %s: %s", request.method, request.path, username,
                error.message)
    try:
        audit.record(db.session, actor=username, client_address=request.remote_addr or "",
                     **entry)
        db.session.commit()
    except Exception:  # the refusal stands even if its evidence cannot be written
        db.session.rollback()
        log.exception("could not audit a refused attempt")


def api_http_message(error: HTTPException, title: str) -> str:
    """What went wrong, in the caller's language: Werkzeug's own descriptions are English."""
    status = error.code or 500
    if error.description and error.description != type(error).description:
        return str(error.description)   # one written for this case
    if status == 404:
        return _("There is no %(path)s in this API; its paths are in /api/v1/openapi.json",
                 path=request.path)
    if status == 405:
        allowed = ", ".join(sorted(set(getattr(error, "valid_methods", None) or ())
                                   - {"HEAD", "OPTIONS"}))
        return _("%(method)s is not allowed on %(path)s; allowed: %(allowed)s",
                 method=request.method, path=request.path, allowed=allowed or "-")
    if status == 413:
        return _("The body is larger than the %(limit)s bytes this API takes",
                 limit=format_number(current_app.config.get("MAX_CONTENT_LENGTH") or 0))
    return title


def init_app(app: Flask) -> None:
    @app.errorhandler(GovernanceError)
    def governance_error(error: GovernanceError):
        db.session.rollback()
        record_refusal(error)
        checks = getattr(error, "checks", None)
        if wants_json():
            locale = str(get_locale())
            body = {"error": {"code": error.code, "message": str(error.message)}}
            if error.field:
                body["error"]["field"] = error.field
            if checks:
                body["violations"] = [_violation(c, locale) for c in failures(checks)]
                # The summary in the caller's language, as the violations are.
                body["error"]["message"] = " ".join(v["message"] for v in body["violations"])
            return jsonify(body), error.status
        return render_template("errors/error.html", status=error.status,
                               title=str(TITLES.get(error.status, TITLES[400])),
                               message=str(error.message),
                               checks=failures(checks) if checks else []), error.status

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        return answer(400, "csrf", _("The form has expired or did not come from this site. "
                                     "Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        status = error.code or 500
        title = str(TITLES.get(status, TITLES[400]))
        if wants_json():
            return json_error(status, error.name.lower().replace(" ", "_"),
                              api_http_message(error, title))
        return render_template("errors/error.html", status=status, title=title,
                               message=""), status

    @app.errorhandler(OperationalError)
    def busy(error: OperationalError):
        """A lock the database gave up waiting for (SQLite's busy timeout, a PostgreSQL
        deadlock or serialisation failure): nothing was saved, and trying again works."""
        db.session.rollback()
        if not _is_contention(error):
            return unexpected(error)
        log.warning("database busy on %s %s: %s", request.method, request.path, error.orig)
        response, status = answer(503, "busy", _("The register is busy with another change. "
                                                 "Nothing was saved; try again in a moment."))
        return response, status, {"Retry-After": "2"}

    @app.errorhandler(IntegrityError)
    def clash(error: IntegrityError):
        """Two changes at the same moment that the database keeps from both landing (the
        same new username, say): the later one is a 409."""
        db.session.rollback()
        if not _is_duplicate(error):
            return unexpected(error)   # a foreign key or NOT NULL broken: a bug, said so
        log.warning("integrity clash on %s %s: %s", request.method, request.path, error.orig)
        return answer(409, "conflict", _("Someone else made the same change at the same "
                                         "moment. Nothing was saved; reload and look again."))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "internal_error", "Something went wrong on our side; "
                                                     "nothing was saved.")
        return render_template("errors/error.html", status=500, title=str(TITLES[500]),
                               message=_("Nothing was saved. Try again, or tell the "
                                         "administrator what you were doing.")), 500
