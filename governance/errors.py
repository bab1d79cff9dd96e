"""Error answers for people: Danish pages for the web, JSON for the API; never a trace."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .domain.rules import failures
from .extensions import db
from .services.errors import GovernanceError, RuleViolation

log = logging.getLogger(__name__)

TITLES = {
    400: "The request could not be understood",
    401: "Please log in",
    403: "You do not have access to this page",
    404: "The page was not found",
    405: "That is not allowed here",
    409: "This has already been decided",
    413: "What you sent is too large",
    422: "The rules do not allow this",
    500: "Something went wrong on our side",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def init_app(app: Flask) -> None:
    @app.errorhandler(GovernanceError)
    def governance_error(error: GovernanceError):
        db.session.rollback()
        if error.status == 403:
            log.warning("refused %s %s: %s", request.method, request.path, error.message)
        if wants_json():
            if isinstance(error, RuleViolation):
                from flask_babel import get_locale
                locale = str(get_locale())
                violations = [c.as_dict(locale) for c in failures(error.checks)]
                for v in violations:
                    v.pop("passed", None)
                return jsonify({"error": {"code": error.code, "message": error.message},
                                "violations": violations}), 422
            extra = {"field": error.field} if error.field else {}
            return json_error(error.status, error.code, error.message, **extra)
        return render_template("errors/error.html", status=error.status,
                               title=_(TITLES.get(error.status, TITLES[400])),
                               message=error.message), error.status

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        message = _("The form has expired or did not come from this site. Reload the page "
                    "and try again.")
        if wants_json():
            return json_error(400, "csrf", message)
        return render_template("errors/error.html", status=400, title=_(TITLES[400]),
                               message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        status = error.code or 500
        title = _(TITLES.get(status, TITLES[400]))
        if wants_json():
            return json_error(status, error.name.lower().replace(" ", "_"), error.description
                              or title)
        return render_template("errors/error.html", status=status, title=title,
                               message=""), status

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "internal_error", "Something went wrong on our side; "
                                                     "nothing was saved.")
        return render_template("errors/error.html", status=500, title=_(TITLES[500]),
                               message=_("Nothing was saved. Try again, or tell the "
                                         "administrator what you were doing.")), 500
