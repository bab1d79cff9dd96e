"""One test per security check (OWASP ASVS level 2 and the Flask security guidance)."""
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from governance import create_app
from governance.config import ConfigurationError, UnsafeConfiguration
from governance.extensions import db
from governance.models import AccessRequest, AuditEntry, Employee, Grant, Review
from governance.services import clock

from ..services.workflow import TASKS, active_grant, approved_grant

REQUEST = {"grantee": "ahn", "system": "UIS", "frequency": "weekly", "tasks": TASKS,
           "data_categories": ["residence"]}


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- CSRF -----------------------------------------------------------------------------

@pytest.fixture
def csrf_client(app, login):
    app.config["WTF_CSRF_ENABLED"] = True
    return app.test_client()


def csrf_token(client, path="/requests/new?system=UIS") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def session_login(client, username):
    employee = db.session.scalar(sa.select(Employee).where(Employee.username == username))
    with client.session_transaction() as session:
        session["_user_id"] = employee.get_id()


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_form_without_a_valid_csrf_token_is_400_and_writes_nothing(csrf_client, token):
    session_login(csrf_client, "ahn")
    data = {**REQUEST, "action": "submit", **({"csrf_token": token} if token else {})}
    response = csrf_client.post("/requests/new?system=UIS", data=data)
    assert response.status_code == 400
    assert count(AccessRequest) == 0


def test_a_token_from_another_session_is_refused(app, csrf_client):
    other = app.test_client()
    session_login(other, "mbe")
    foreign = csrf_token(other)
    session_login(csrf_client, "ahn")
    response = csrf_client.post("/requests/new?system=UIS",
                                data={**REQUEST, "action": "submit", "csrf_token": foreign})
    assert response.status_code == 400
    assert count(AccessRequest) == 0


def test_session_authenticated_json_needs_csrf_but_bearer_does_not(csrf_client, api):
    session_login(csrf_client, "ahn")
    response = csrf_client.post("/api/v1/requests", json=REQUEST)
    assert response.status_code == 400 and count(AccessRequest) == 0
    response = csrf_client.post("/api/v1/requests", json=REQUEST,
                                headers={"X-CSRFToken": csrf_token(csrf_client)})
    assert response.status_code == 201
    assert api("mbe").post("/api/v1/requests", json={**REQUEST, "grantee": "mbe"}
                           ).status_code == 201


def test_the_review_pages_forms_carry_a_token_that_is_accepted(csrf_client):
    """The review page writes its CSRF field once for its many forms (and without an id):
    the token it carries decides a review; without it the same post is refused."""
    grant = active_grant(clock.today())
    grant.review_due = clock.today()
    db.session.commit()
    session_login(csrf_client, "tko")
    page = csrf_client.get("/reviews/").get_data(as_text=True)
    form = page[page.index(f'action="/reviews/{grant.id}"'):]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    decision = {"decision": "keep", "comment": "Behovet består"}
    assert csrf_client.post(f"/reviews/{grant.id}", data=decision).status_code == 400
    assert count(Review) == 0
    response = csrf_client.post(f"/reviews/{grant.id}", data={**decision, "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert count(Review) == 1 and db.session.get(Grant, grant.id).review_due > clock.today()


# --- methods --------------------------------------------------------------------------

def post_only_routes(app) -> list[str]:
    methods: dict[str, set] = {}
    for rule in app.url_map.iter_rules():
        methods.setdefault(rule.rule, set()).update(rule.methods)
    routes = []
    for rule, allowed in methods.items():
        if ("POST" in allowed or "PATCH" in allowed) and "GET" not in allowed:
            path = re.sub(r"<id:\w+>", "1", rule)
            routes.append(re.sub(r"<(?:\w+:)?\w+>", "ahn", path))
    return routes


def test_get_on_every_state_changing_url_is_405(app, client, login):
    login("admin")
    routes = post_only_routes(app)
    assert len(routes) > 10
    for path in routes:
        response = client.get(path)
        assert response.status_code == 405, path


# --- mass assignment ------------------------------------------------------------------

def test_api_refuses_to_set_status_or_approver(api):
    caller = api("ahn")
    for extra in ({"status": "approved"}, {"approver": "kfi"}, {"approvals_needed": 0}):
        response = caller.post("/api/v1/requests", json={**REQUEST, **extra})
        assert response.status_code == 400
        assert response.get_json()["error"]["field"] == next(iter(extra))
    assert count(AccessRequest) == 0


def test_form_ignores_status_and_approver(client, login):
    login("ahn")
    client.post("/requests/new?system=UIS", data={**REQUEST, "action": "submit",
                                                   "status": "approved", "approver": "kfi",
                                                   "approvals_needed": "0"})
    req = db.session.scalars(sa.select(AccessRequest)).one()
    assert (req.status, req.approvals_needed, req.decisions) == ("pending", 1, [])


def test_employee_patch_cannot_set_the_password_hash(api):
    response = api("admin").patch("/api/v1/employees/ahn", json={"password_hash": "x"})
    assert response.status_code == 400


# --- sessions -------------------------------------------------------------------------

def test_login_issues_a_new_session(app):
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/login", data={"username": "ahn", "password": "htk-demo-2024"})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_replayed_cookie_after_logout_is_refused(app):
    client = app.test_client()
    client.post("/login", data={"username": "ahn", "password": "htk-demo-2024"})
    cookie = client.get_cookie("session").value
    client.post("/logout")
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/").status_code == 302


def test_a_leaver_loses_every_session_at_once(app, api):
    client = app.test_client()
    client.post("/login", data={"username": "sjo", "password": "htk-demo-2024"})
    assert client.get("/").status_code == 200
    api("admin").patch("/api/v1/employees/sjo", json={"status": "left"})
    assert client.get("/").status_code == 302


def test_open_redirect_is_refused(app):
    client = app.test_client()
    response = client.post("/login?next=https://evil.example/phish",
                           data={"username": "ahn", "password": "htk-demo-2024"})
    assert response.location == "/"


# --- headers, errors, limits ----------------------------------------------------------

@pytest.mark.parametrize("path, kind", [("/", "html"), ("/api/v1/me", "json"),
                                        ("/nope", "error"), ("/api/v1/nope", "json-error"),
                                        ("/employees/kfi", "forbidden")])
def test_security_headers_on_html_json_and_errors(client, login, api, path, kind):
    login("ahn")
    response = api("ahn").get(path) if path.startswith("/api") else client.get(path)
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'",
                      "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_error_pages_are_danish_without_trace_sql_or_secret(client, login, monkeypatch, app):
    from governance.services import register

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT * FROM employees", {}, Exception("boom"))
    monkeypatch.setattr(register, "list_systems", broken)
    login("ahn")
    response = client.get("/systems/")
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Der gik noget galt hos os" in text
    for leak in ("Traceback", "SELECT", "boom", app.config["SECRET_KEY"]):
        assert leak not in text


def test_oversized_body_is_413(client, login):
    login("ahn")
    response = client.post("/requests/new?system=UIS",
                           data={**REQUEST, "tasks": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    assert count(AccessRequest) == 0


def test_failed_authorisation_is_audited(client, login):
    login("ahn")
    assert client.get("/audit/").status_code == 403
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.actor) == ("access.denied", "ahn")


def test_passwords_are_argon2id(app):
    assert all(h.startswith("$argon2id$") for h in db.session.scalars(
        sa.select(Employee.password_hash).where(Employee.password_hash.is_not(None))))


# --- production configuration ---------------------------------------------------------

@pytest.mark.parametrize("secret", ["", "dev-only-not-secret", "short"])
def test_production_refuses_a_weak_secret_key(monkeypatch, secret):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(UnsafeConfiguration):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_refuses_debug(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(UnsafeConfiguration):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize("setting, said", [
    ({"APP_ENV": "production", "SECRET_KEY": "short"},
     "APP_ENV=production needs SECRET_KEY set to a random value of at least 32"),
    ({"SESSION_HOURS": "eight"}, "SESSION_HOURS must be a whole number of at least 1, "
                                 "not 'eight'"),
    ({"SESSION_HOURS": "0"}, "SESSION_HOURS must be a whole number of at least 1, not '0'"),
    ({"PROXY_COUNT": "-1"}, "PROXY_COUNT must be a whole number of at least 0, not '-1'"),
    ({"MAIL_PORT": "smtp"}, "MAIL_PORT must be a whole number of at least 1, not 'smtp'"),
    ({"DATABASE_URL": "sqlite:////nowhere-at-all/register.sqlite"},
     "the folder /nowhere-at-all does not exist"),
])
def test_a_command_with_a_setting_it_cannot_start_with_says_which(tmp_path, setting, said):
    """The message and exit 1, not a traceback: the operator reads it in a terminal."""
    import os
    import subprocess
    import sys
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite'}",
           "APP_ENV": "development", **setting}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "current"],
                          cwd=Path(__file__).resolve().parents[2], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert said in done.stderr and done.stderr.startswith("Error: ")
    assert "Traceback" not in done.stderr


def test_a_sqlite_file_in_a_folder_that_does_not_exist_is_named(tmp_path):
    missing = tmp_path / "nowhere" / "register.sqlite"
    with pytest.raises(ConfigurationError) as refused:
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}"})
    assert f"the folder {missing.parent} does not exist" in str(refused.value)
    assert create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'ok.sqlite'}"})
    # A relative path is the instance folder's, as Flask-SQLAlchemy reads it.
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///register.sqlite"})
    with app.app_context():
        from governance.extensions import db
        assert db.engine.url.database == str(Path(app.instance_path) / "register.sqlite")
    with pytest.raises(ConfigurationError) as relative:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///no-such-folder/register.sqlite"})
    assert str(Path(app.instance_path) / "no-such-folder") in str(relative.value)


def test_production_cookies_hsts_and_proxy(monkeypatch, app):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    prod = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    assert prod.config["SESSION_COOKIE_SECURE"] and prod.config["SESSION_COOKIE_HTTPONLY"]
    client = prod.test_client()
    response = client.post("/login", data={"username": "ahn", "password": "htk-demo-2024"},
                           headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.1.2.3"},
                           base_url="http://register.htk.dk")
    assert response.status_code in (302, 400)  # 400: CSRF is on in production
    assert "max-age" in response.headers["Strict-Transport-Security"]
    page = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    cookie = page.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with prod.app_context():
        from governance.extensions import db as prod_db
        prod_db.engine.dispose()


def test_the_object_level_check_covers_requests_of_others(api):
    grant = approved_grant()
    assert api("mbe").get(f"/api/v1/requests/{grant.request_id}").status_code == 403
    assert api("mbe").get(f"/api/v1/grants/{grant.id}").status_code == 403


@pytest.mark.parametrize("path", ["/api/v1/audit?actor=a%00b", "/api/v1/employees?status=%00"])
def test_nul_characters_are_refused_not_a_500(api, path):
    assert api("dpo").get(path).status_code == 400


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/employees/%00"), ("get", "/api/v1/systems/%00"),
    ("patch", "/api/v1/employees/a%00b")])
def test_a_nul_in_the_path_is_refused_not_a_500(api, method, path):
    """PostgreSQL cannot compare text holding NUL: refused before any lookup."""
    caller = api("admin")
    response = getattr(caller, method)(path, **({"json": {"name": "X"}}
                                                 if method == "patch" else {}))
    assert response.status_code == 400
    assert "NUL" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("path", ["/employees/%00", "/systems/%00", "/centres/%00/edit"])
def test_a_nul_in_a_page_s_path_is_refused_not_a_500(client, login, path):
    login("admin")
    assert client.get(path).status_code == 400


@pytest.mark.parametrize("path, data", [
    ("/centres/new", {"code": "ZQA", "name": "Nyt center", "manager": "k\x00fi"}),
    ("/employees/new", {"username": "lmo", "name": "Lise Mølgaard", "email": "lmo@htk.dk",
                        "centre": "x\x00y", "roles": ["requester"]}),
])
def test_a_nul_in_a_form_lookup_field_is_refused_before_the_lookup(csrf_client, path, data):
    """Caught before anything reads the form (the CSRF check parses it first): with the
    session's CSRF token, the request is a 400 and nothing is written."""
    session_login(csrf_client, "admin")
    before = count(AuditEntry)
    response = csrf_client.post(path, data={**data, "csrf_token": csrf_token(csrf_client,
                                                                             path)})
    assert response.status_code == 400
    assert count(AuditEntry) == before


@pytest.mark.parametrize("body", [b"comment=%ED%A0%80&decision=reject", b"reason=%FF"])
def test_form_bytes_that_are_not_utf8_are_refused_not_stored_as_escapes(client, login, body):
    """Werkzeug keeps undecodable bytes as '%FF' text: refused instead, in a comment or a
    reason as in any other field."""
    grant = approved_grant()
    login("kfi")
    before = count(AuditEntry)
    for path in (f"/requests/{grant.request_id}/decision", f"/grants/{grant.id}/revoke"):
        response = client.post(path, data=body,
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == 400, path
    assert client.get("/employees/?q=%FF").status_code == 400
    assert count(AuditEntry) == before and grant.status == "approved"


def test_nul_in_a_json_body_is_refused(api):
    response = api("ahn").post("/api/v1/requests", json={**REQUEST, "tasks": "a\x00b" * 30})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "tasks"
    assert count(AccessRequest) == 0
    employee = api("admin").patch("/api/v1/employees/mbe", json={"title": "x\x00"})
    assert employee.status_code == 400 and employee.get_json()["error"]["field"] == "title"


def test_an_id_too_large_for_the_database_is_404(api):
    assert api("kfi").post("/api/v1/grants/19063209132/review",
                           json={"decision": "keep", "comment": "x"}).status_code == 404


DATED = [("dpo", "/dashboard/?as_of={d}", "as_of"), ("dpo", "/dashboard/list/overdue?as_of={d}",
                                                      "as_of"),
         ("dpo", "/grants/at?system=UIS&date={d}", "date"),
         ("dpo", "/reports/status?from=2026-01-01&to={d}", "to"),
         ("dpo", "/reports/status?from={d}&to=2026-01-01", "from"),
         ("dpo", "/audit/?to={d}", "to"), ("kfi", "/reviews/?as_of={d}", "as_of")]
API_DATED = [("dpo", "/api/v1/grants?as_of={d}", "as_of"), ("dpo", "/api/v1/audit?to={d}", "to"),
             ("dpo", "/api/v1/audit?from={d}", "from"),
             ("kfi", "/api/v1/reviews/overdue?as_of={d}", "as_of")]
FAR_DAYS = ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"]


@pytest.mark.parametrize("day", FAR_DAYS)
def test_a_date_far_outside_the_register_is_400_not_a_500(client, login, api, day):
    """A year or a month added to 9999-12-31 runs past what a date holds: refused by name."""
    for username, path, field in DATED:
        login(username)
        response = client.get(path.format(d=day))
        assert response.status_code == 400, path
        assert "1900-01-01" in response.get_data(as_text=True), path
    for username, path, field in API_DATED:
        response = api(username).get(path.format(d=day))
        assert response.status_code == 400, path
        assert response.get_json()["error"]["field"] == field, path


def test_the_first_and_last_day_the_register_speaks_of_are_read(client, login, api):
    login("dpo")
    for day in ("1900-01-01", "2999-12-31"):
        assert client.get(f"/dashboard/?as_of={day}").status_code == 200
        assert api("dpo").get(f"/api/v1/grants?as_of={day}").status_code == 200
        assert client.get(f"/grants/at?system=UIS&date={day}").status_code == 200
