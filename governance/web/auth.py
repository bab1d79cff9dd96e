"""Logging in and out, and choosing the interface language."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..extensions import db
from ..services import auth as auth_service
from . import client_address
from .forms import EmptyForm, LoginForm

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only a path inside this app; anything with a scheme or host goes to the overview."""
    if not target:
        return url_for("overview.index")
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target)):
        return url_for("overview.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            employee = auth_service.authenticate(db.session, form.username.data.strip(),
                                                 form.password.data, client_address())
        except auth_service.LoginThrottled as error:
            db.session.commit()  # keep the audit entry of the refused attempt
            flash(str(error.message), "error")
            return render_template("auth/login.html", form=form), 429
        db.session.commit()
        if employee is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session on login: no fixation
            if lang:
                session["lang"] = lang
            session.permanent = True   # ends after PERMANENT_SESSION_LIFETIME without use
            login_user(employee)
            return redirect(safe_next(request.args.get("next")))
        flash(_("Wrong username or password."), "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        auth_service.logout(db.session, current_user, client_address())
        db.session.commit()
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:   # the language chosen stays for the login page that follows
        session["lang"] = lang
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language/<code>")
def set_language(code: str):
    if EmptyForm().validate_on_submit() and code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.form.get("next")))
