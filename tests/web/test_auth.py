"""Logging in and out: audited, the same answer for unknown users, sessions ended for real."""
import re

import pytest
import sqlalchemy as sa

from governance.extensions import db
from governance.models import AuditEntry, Employee
from governance.services import auth
from governance.services.actor import Actor

PASSWORD = "htk-demo-2024"


def audit_actions():
    return [(e.action, e.object_id) for e in
            db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]


def test_login_with_the_demo_password(client):
    response = client.post("/login", data={"username": "ahn", "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/").status_code == 200
    assert ("auth.login", "ahn") in audit_actions()


def test_a_username_logs_in_whatever_its_case_and_is_counted_as_one_person(client):
    """The register holds 'ahn'; 'AHN' is the same person, at the login as elsewhere, and
    failures in either case count towards the same limit."""
    for n, typed in enumerate(("AHN", "Ahn", "ahn", "aHn", "AHN")):
        assert client.post("/login", data={"username": typed, "password": f"wrong-{n}"}
                           ).status_code == 401
    assert client.post("/login", data={"username": "ahn", "password": PASSWORD}
                       ).status_code == 429
    assert {e for a, e in audit_actions() if a == "auth.login_failed"} == {"ahn"}


def test_a_username_in_capitals_logs_in(client):
    response = client.post("/login", data={"username": "AHN", "password": PASSWORD})
    assert response.status_code == 302
    assert ("auth.login", "ahn") in audit_actions()


@pytest.mark.parametrize("username, password", [("ahn", "wrong-password"),
                                                ("nobody", PASSWORD)])
def test_failed_login_same_message_and_audited(client, username, password):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 401
    assert client.get("/").status_code == 302
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.object_id) == ("auth.login_failed", username)
    assert "Forkert brugernavn eller adgangskode" in response.get_data(as_text=True)


def test_unknown_user_and_wrong_password_look_the_same(client):
    wrong = client.post("/login", data={"username": "ahn", "password": "nope-nope"})
    unknown = client.post("/login", data={"username": "zzz", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    # The same page but for the name typed, and the CSRF token (signed with the second it
    # was made in, so two requests a second apart differ there).
    def page(response) -> str:
        return re.sub(r'name="csrf_token" value="[^"]+"', "csrf",
                      response.get_data(as_text=True))
    assert page(wrong).replace("ahn", "zzz") == page(unknown)


def test_leaver_cannot_log_in(client):
    employee = db.session.scalar(sa.select(Employee).where(Employee.username == "sjo"))
    employee.status = "left"
    db.session.commit()
    response = client.post("/login", data={"username": "sjo", "password": PASSWORD})
    assert response.status_code == 401


@pytest.mark.parametrize("target, expected", [
    ("/systems/", "/systems/"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_only_redirects_inside_the_app(client, target, expected):
    response = client.post("/login", query_string={"next": target},
                           data={"username": "ahn", "password": PASSWORD})
    assert response.status_code == 302
    assert response.location == expected


def test_logout_ends_the_session_and_a_copied_cookie(client, app):
    client.post("/login", data={"username": "ahn", "password": PASSWORD})
    cookie = client.get_cookie("session").value
    other = app.test_client()
    other.set_cookie("session", cookie)
    assert other.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302
    assert other.get("/").status_code == 302   # the copied cookie stopped working
    assert ("auth.logout", "ahn") in audit_actions()


def test_logout_by_get_is_not_allowed(client, login):
    login("ahn")
    assert client.get("/logout").status_code == 405


def test_password_change_ends_other_sessions(client, login):
    login("ahn")
    assert client.get("/").status_code == 200
    auth.set_password(db.session, Actor.system("test"), "ahn", "a-new-password-1")
    db.session.commit()
    assert client.get("/").status_code == 302


def test_language_switch(client, login):
    login("ahn")
    danish = client.get("/").get_data(as_text=True)
    assert '<html lang="da">' in danish
    client.post("/language/en", data={"next": "/"})
    english = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "My overview" in english and "My overview" not in danish


def test_csrf_is_required_on_forms(app):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/login", data={"username": "ahn", "password": PASSWORD})
    assert response.status_code == 400
    assert ("auth.login", "ahn") not in audit_actions()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": "ahn", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


def test_login_limit_holds_across_two_app_instances(app):
    """Five failures for a user, spread over two workers sharing the database, lock it."""
    from tests.conftest import make_app
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=False)
    first, second = app.test_client(), other.test_client()
    for n in range(5):
        client = first if n % 2 else second
        assert client.post("/login", data={"username": "ahn", "password": f"wrong-{n}"}
                           ).status_code == 401
    locked = first.post("/login", data={"username": "ahn", "password": PASSWORD})
    assert locked.status_code == 429
    assert second.post("/login", data={"username": "ahn", "password": PASSWORD}
                       ).status_code == 429
    assert ("auth.login_throttled", "ahn") in audit_actions()
    # Another user from the same address is not locked by ahn's failures.
    assert first.post("/login", data={"username": "mbe", "password": PASSWORD}
                      ).status_code == 302
    with other.app_context():
        from governance.extensions import db as other_db
        other_db.engine.dispose()


def test_a_success_resets_the_count(client):
    for n in range(4):
        client.post("/login", data={"username": "ahn", "password": f"wrong-{n}"})
    assert client.post("/login", data={"username": "ahn", "password": PASSWORD}
                       ).status_code == 302
    client.post("/logout")
    for n in range(4):
        client.post("/login", data={"username": "ahn", "password": f"wrong-{n}"})
    assert client.post("/login", data={"username": "ahn", "password": PASSWORD}
                       ).status_code == 302


def test_a_locked_login_is_audited_once_and_names_no_one_as_actor(client):
    for n in range(5):
        client.post("/login", data={"username": "kfi", "password": f"wrong-{n}"})
    for _ in range(30):
        assert client.post("/login", data={"username": "kfi", "password": "x"}
                           ).status_code == 429
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.object_id == "kfi", AuditEntry.action.like("auth.login_%"))).all()
    assert [e.action for e in entries].count("auth.login_throttled") == 1
    assert [e.action for e in entries].count("auth.login_failed") == 5
    assert {e.actor for e in entries} == {"anonymous"}


def test_a_guesser_at_one_address_does_not_lock_the_person_out_elsewhere(app):
    """Five wrong passwords for kfi from one machine lock kfi at that machine only."""
    from governance.services import auth
    for n in range(5):
        assert auth.authenticate(db.session, "kfi", f"wrong-{n}", "10.0.0.66") is None
    db.session.commit()
    with pytest.raises(auth.LoginThrottled):
        auth.authenticate(db.session, "kfi", PASSWORD, "10.0.0.66")
    db.session.rollback()
    assert auth.authenticate(db.session, "kfi", PASSWORD, "10.0.0.7") is not None


def test_one_persons_login_does_not_clear_a_guessers_count_at_that_address(app):
    from governance.services import auth
    users = ["ahn", "mbe", "sjo", "lpe", "nra", "rha", "tbr", "ekj", "mlu", "sni"]
    for n in range(19):
        auth.authenticate(db.session, users[n % 10], f"wrong-{n}", "10.0.0.9")
    db.session.commit()
    assert auth.authenticate(db.session, "kfi", PASSWORD, "10.0.0.9") is not None  # the insider
    auth.authenticate(db.session, "jpo", "wrong", "10.0.0.9")   # the twentieth
    db.session.commit()
    with pytest.raises(auth.LoginThrottled):
        auth.authenticate(db.session, "tko", "another-guess", "10.0.0.9")


@pytest.mark.parametrize("target", ["/%0D%0AX-Injected:%201", "/ok%0A"])
def test_a_next_address_with_a_line_break_goes_to_the_overview(client, target):
    response = client.post(f"/login?next={target}",
                           data={"username": "ahn", "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"


def test_pages_about_people_are_not_cached_and_a_login_expires(client, app):
    client.post("/login", data={"username": "ahn", "password": PASSWORD})
    page = client.get("/employees/ahn")
    assert page.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/style.css").headers.get("Cache-Control", "")
    cookie = client.get_cookie("session")
    assert cookie.expires is not None                       # not a cookie for 31 days
    from datetime import timedelta
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)


def test_system_and_anonymous_cannot_be_usernames(api):
    for name in ("system", "Anonymous"):
        response = api("admin").post("/api/v1/employees", json={
            "username": name, "name": "X", "email": f"{name}@htk.dk", "centre": "SAC"})
        assert response.status_code == 400 and response.get_json()["error"]["field"] == \
            "username"



def test_logging_out_keeps_the_language_chosen(client):
    client.post("/login", data={"username": "ahn", "password": PASSWORD})
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = client.post("/logout", follow_redirects=True).get_data(as_text=True)
    assert '<html lang="en">' in page and "You are logged out." in page
