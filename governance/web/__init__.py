"""Web pages: one blueprint per noun, deny-by-default login, security headers."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import unquote_to_bytes

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from ..domain.vocabulary import end_reason_label, label, rule_name
from ..extensions import db, login_manager
from ..models import Employee
from ..services import audit as audit_chain, clock
from ..services.clock import day_text
from ..services.listing import MAX_PAGE
from ..services.actor import Actor
from ..services.errors import Conflict, InvalidInput

# Endpoints a person can reach without logging in; everything else needs a login.
PUBLIC_ENDPOINTS = {"auth.login", "auth.set_language", "static", "health", "favicon"}


# The employee behind a session, with the roles every page asks for, in one statement built
# once (see services/listing.py for why).
_EMPLOYEE = (select(Employee).options(joinedload(Employee.role_rows))
             .where(Employee.id == bindparam("id")))


@login_manager.user_loader
def load_employee(session_id: str) -> Employee | None:
    """Sessions carry the employee's session version: a bumped version ends old sessions."""
    try:
        employee_id, version = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    employee = db.session.execute(_EMPLOYEE, {"id": employee_id}).unique().scalar_one_or_none()
    if employee is None or employee.session_version != version or not employee.active:
        return None
    return employee


def current_actor() -> Actor:
    if "actor" not in g:
        g.actor = Actor.of(current_user, client_address())
    return g.actor


def client_address() -> str:
    return request.remote_addr or ""


def policy_names(in_force) -> str:
    """The purpose policies in force as a page names them: 'EU-øst indsatsen (...)
    (Direktionen 19-11-2024, ...)', in the page's language."""
    english = str(get_locale()) == "en"
    return "; ".join(f"{p.name_en if english else p.name_da} ({p.decision})"
                     for p in sorted(in_force.policies.values(), key=lambda p: p.id))


def expired_form_message() -> str:
    return _("The form has expired or did not come from this site. Reload the page and try "
             "again.")


def duty_text(vacancy) -> str:
    """A duty that a leaver still holds (`register.Vacancy`), in the page's language."""
    if vacancy.duty == "approver":
        return _("Named approver in the policy '%(policy)s'", policy=vacancy.where)
    if vacancy.duty == "owner":
        return _("System owner of %(system)s", system=vacancy.where)
    if vacancy.duty == "manager":
        return _("Manager of the centre %(centre)s", centre=vacancy.where)
    if vacancy.duty == "user_admin":
        if vacancy.uncovered:
            return _("Sole user administrator of %(system)s", system=vacancy.where)
        return _("User administrator of %(system)s", system=vacancy.where)
    return _("Contact person for '%(area)s' in %(system)s",
             area=vacancy.area_name(str(get_locale())), system=vacancy.where)


def duty_remedy(vacancy) -> str:
    """What ends the vacancy: a new version of the policy, or the seed's systems."""
    if vacancy.duty == "approver":
        return _("The DPO has a new version of the policy drawn up that names another "
                 "approver, and it is loaded with 'flask policy load'.")
    if vacancy.duty == "manager":
        return _("The administrator names the centre's new manager under Centre.")
    return _("The system administrator names someone else in the register's set-up "
             "(seed/systems.yaml) and loads it again with 'flask seed'; until then this work "
             "is not done.")


def show_on_field(form, error) -> None:
    """A refusal shown on the form field it names, or as a message when it names none."""
    field = getattr(form, error.field or "", None)
    if field is not None and field.type != "HiddenField":
        field.errors = [*field.errors, str(error.message)]
        field.render_kw = {**(field.render_kw or {}), "aria-invalid": "true",
                           "aria-describedby": f"{field.name}-error"}
    else:
        flash(str(error.message), "error")


def save_form(form, save, template: str, saved_url, **context):
    """Run save() on a valid posted form, commit, and go to saved_url(what was saved). A
    refusal by the service lands on the field it names (else in a message), nothing is
    written, and the form is shown again with what was typed."""
    if form.validate_on_submit():
        try:
            saved = save()
        except (InvalidInput, Conflict) as error:
            db.session.rollback()
            show_on_field(form, error)
        else:
            db.session.commit()
            return redirect(saved_url(saved))
    return (render_template(template, form=form, **context),
            400 if request.method == "POST" else 200)


PER_PAGE = 100


def page_arg(name: str = "page") -> int:
    """The page asked for in ?page= (or ?<name>=), at least 1; past MAX_PAGE a 400 that
    says so."""
    page = max(request.args.get(name, 1, type=int) or 1, 1)
    if page > MAX_PAGE:
        raise InvalidInput(_l("The page must be at most %(max)s", max=MAX_PAGE),
                           field=name)
    return page


def init_app(app: Flask) -> None:
    from . import (audit, auth, centres, dashboard, employees, grants, overview, principles,
                   reports, requests, reviews, systems)

    for module in (auth, overview, dashboard, requests, reviews, grants, systems, employees,
                   centres, principles, audit, reports):
        app.register_blueprint(module.bp)

    def refuse_unstorable_text():
        """Text with a NUL character cannot be stored (PostgreSQL refuses it), nor can bytes
        that are not UTF-8 (Werkzeug would keep them as '%FF' text): a 400, in the path,
        the query or a form. It runs before any other hook, so the body it reads is the
        one the form (and the CSRF check) is parsed from."""
        # A JSON body of the API is checked field by field when it is read (api.workflow
        # body()), so that the 400 can name the field.
        api_json = request.path.startswith("/api/") and request.is_json
        body = request.get_data(cache=True) if request.content_length and not api_json \
            else b""
        nul = "\x00" in request.path
        for raw in (request.query_string, body):
            lowered = raw.lower()
            nul = nul or b"\x00" in raw or b"%00" in lowered or b"\\u0000" in lowered
        if nul:
            raise BadRequest(_("Text with a NUL character cannot be stored."))
        form = request.mimetype == "application/x-www-form-urlencoded"
        for raw in (request.query_string, body if form else b""):
            if not _utf8_when_decoded(raw):
                raise BadRequest(_("Text that is not UTF-8 cannot be stored."))
        return None

    # First of all the hooks (CSRF's included): see the docstring.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unstorable_text)

    @app.before_request
    def require_login():
        if request.path.startswith("/api/") or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if not current_user.is_authenticated:
            if request.path != "/":   # asked for a page: say why the login page comes first
                flash(_("Please log in"), "info")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return None

    @app.before_request
    def serialise_writes():
        """A page request that may change the register queues for the audit chain's lock
        once it is known who asks (the API's after its token: api.authenticate), before the
        view reads anything. The login takes it itself, after the password check."""
        if request.method in SAFE_METHODS or request.path.startswith("/api/") \
                or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        lock_for_writing()
        return None

    @app.get("/favicon.ico")
    def favicon():
        return redirect(url_for("static", filename="favicon.svg"), 301)

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.after_request
    def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Pages about people are not kept in a shared PC's browser cache (static files are).
        if request.endpoint != "static" and (current_user.is_authenticated
                                             or request.path.startswith("/api/")):
            response.headers.setdefault("Cache-Control", "no-store")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=63072000; includeSubDomains")
        return response

    @app.template_filter("format_date")
    @pass_context
    def format_date_filter(context, value):
        """The local day in the page's language; each day is formatted once per language."""
        if not value:
            return "–"
        day = clock.local_date(value) if isinstance(value, datetime) else value
        return day_text(day, page_locale(context))

    @app.template_filter("format_datetime")
    @pass_context
    def format_datetime_filter(context, value):
        """A moment in the municipality's time, its day written as every page writes days:
        "3. maj 2024 kl. 01.30", "May 3, 2024, 01:30"."""
        if not value:
            return "–"
        local = value.astimezone(clock.MUNICIPAL_TZ)
        locale = page_locale(context)
        if locale == "en":
            return f"{day_text(local.date(), locale)}, {local:%H:%M}"
        return f"{day_text(local.date(), locale)} kl. {local:%H.%M}"

    @app.template_filter("label")
    @pass_context
    def label_filter(context, value):
        """The interface word for a vocabulary value: `{{ grant.status | label }}`."""
        return label(value, page_locale(context))

    @app.template_filter("grant_status")
    @pass_context
    def grant_status_filter(context, grant):
        """A grant's status as the lists show it: an approved one already created in its
        system says that it waits for the acknowledgement: `{{ grant | grant_status }}`."""
        # Only an approved one is asked whether it is in its system: a list shows a hundred.
        status = grant.status
        if status == "approved" and (grant.in_system if hasattr(grant, "in_system")
                                     else grant.fulfilled_at is not None):
            status = "awaiting_acknowledgement"
        return label(status, page_locale(context))

    @app.template_filter("rule_name")
    @pass_context
    def rule_name_filter(context, code):
        """A rule's code as the interface names it: `{{ code | rule_name }}`."""
        return rule_name(code, page_locale(context))

    @app.template_filter("end_reason")
    @pass_context
    def end_reason_filter(context, value):
        """How an access ended, in the page's language: `{{ grant.end_reason | end_reason }}`."""
        return end_reason_label(value, page_locale(context))

    app.jinja_env.globals["csrf_field"] = csrf_field
    app.jinja_env.globals["duty_text"] = duty_text
    app.jinja_env.globals["duty_remedy"] = duty_remedy

    @app.context_processor
    def template_helpers():
        return {"locale": str(get_locale()), "id_url": id_url}


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def lock_for_writing() -> None:
    """Read the body, then take the audit chain's lock (services.audit.lock_chain) for the
    rest of the request: writers queue in one order and each judges the register as the
    one before left it. The body first, so that a slow client does not hold the lock while
    it sends; a chunked body cut at the limit is a 413, as a long one is."""
    body = request.get_data(cache=True)
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if request.content_length is None and limit and len(body) >= limit:
        raise RequestEntityTooLarge()
    audit_chain.lock_chain(db.session)


def _utf8_when_decoded(raw: bytes) -> bool:
    """Whether every name and value of a query string or form body is UTF-8 once its
    percent-escapes are undone."""
    try:
        for pair in raw.split(b"&"):
            for piece in pair.split(b"=", 1):
                unquote_to_bytes(piece.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def page_locale(context) -> str:
    """The language a template renders in: the context's, else the request's."""
    return context.get("locale") or str(get_locale())


def csrf_field() -> Markup:
    """The CSRF token as a hidden form field, without the id `hidden_tag()` gives it: a page
    with many forms (one per row) may carry an id only once."""
    return Markup('<input type="hidden" name="csrf_token" value="%s">') % generate_csrf()


_ID_MARK = 999_999_999  # the largest id the URL converter takes


class RowUrl:
    """url_for for one row of many: the URL is built once, and each row's id put in it.
    `id_url('grants.detail', 'grant_id')[7]` == `url_for('grants.detail', grant_id=7)`.
    Read by subscript: a template calls a function through its runtime, which costs
    twice the lookup."""

    __slots__ = ("head", "tail")

    def __init__(self, url: str):
        self.head, self.tail = url.split(str(_ID_MARK), 1)

    def __getitem__(self, value) -> str:
        return f"{self.head}{int(value)}{self.tail}"


def id_url(endpoint: str, argument: str, **values) -> RowUrl:
    return RowUrl(url_for(endpoint, **{argument: _ID_MARK}, **values))
