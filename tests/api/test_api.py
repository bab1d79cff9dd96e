"""The JSON API: bearer tokens, the same permissions as the pages, the documented shapes."""
import re

import pytest
import sqlalchemy as sa

from governance.extensions import db
from governance.models import ApiToken, AuditEntry, Employee
from governance.services import auth
from governance.services.actor import Actor


def test_me(api):
    response = api("kfi").get("/api/v1/me")
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "kfi" and body["name"] == "Klaus Fisker"
    assert body["centre"] == "ØAC" and "approver" in body["roles"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic abc"])
def test_missing_or_bad_token_is_401_json(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    # In Danish by default, as every other API message; in English when asked.
    danish = response.get_json()["error"]["message"]
    english = client.get("/api/v1/me", headers={**headers, "Accept-Language": "en"}).get_json()
    assert ("API-nøglen mangler" if header else "lav et med") in danish
    assert ("bearer token is missing" if header else "create one with") in english["error"][
        "message"]


def test_token_is_stored_hashed_and_creation_audited(app):
    token = auth.create_token(db.session, Actor.system("test"), "ahn")
    db.session.commit()
    stored = db.session.scalars(sa.select(ApiToken.token_sha256)).all()
    assert token not in stored and auth.token_digest(token) in stored
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "token.create" and "ahn" in entry.summary


def test_token_cli_prints_a_working_token(app, client):
    result = app.test_cli_runner().invoke(args=["token", "create", "dpo"])
    assert result.exit_code == 0
    token = result.output.strip()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.get_json()["username"] == "dpo"


def test_token_cli_refuses_unknown_user(app):
    result = app.test_cli_runner().invoke(args=["token", "create", "nobody"])
    assert result.exit_code == 1 and "nobody" in result.output


def test_token_of_a_leaver_stops_working(api):
    caller = api("sjo")
    assert caller.get("/api/v1/me").status_code == 200
    db.session.scalar(sa.select(Employee).where(Employee.username == "sjo")).status = "left"
    db.session.commit()
    assert caller.get("/api/v1/me").status_code == 401


def test_systems_have_the_documented_fields(api):
    body = api("ahn").get("/api/v1/systems").get_json()
    assert body["total"] == 7
    systems = {s["code"]: s for s in body["items"]}
    assert set(systems) == {"UIS", "CPR", "CVR", "EINDKOMST", "ACADRE", "FASIT", "SAPA"}
    acadre = systems["ACADRE"]
    assert acadre["owner"].startswith("Høje-Taastrup")
    assert acadre["user_admins"] == ["sni"]
    assert acadre["access_levels"] == ["read", "write"]
    assert acadre["scopes"] == ["summary", "detail"]
    assert "case_documents" in acadre["data_categories"]
    areas = {a["key"]: a for a in acadre["non_grantable_areas"]}
    assert areas["child_cases"]["contact"]["username"] == "hvi"


def test_systems_paging(api):
    body = api("ahn").get("/api/v1/systems?page=2&per_page=3").get_json()
    assert body["total"] == 7 and [s["code"] for s in body["items"]] == ["EINDKOMST", "FASIT",
                                                                         "SAPA"]


@pytest.mark.parametrize("query, field", [
    ("page=0", "page"), ("per_page=0", "per_page"), ("per_page=501", "per_page"),
    ("page=x", "page"), ("per_page=", "per_page"), ("per_page=abc", "per_page"),
    ("page=2&per_page=x", "per_page")])
def test_bad_paging_is_400_naming_the_parameter(api, query, field):
    response = api("ahn").get(f"/api/v1/systems?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_input"
    assert response.get_json()["error"]["field"] == field


@pytest.mark.parametrize("username, status", [("ahn", 403), ("kfi", 200), ("rha", 200),
                                              ("dpo", 200), ("admin", 200)])
def test_employees_same_permissions_as_the_page(api, username, status):
    response = api(username).get("/api/v1/employees")
    assert response.status_code == status
    if status == 200:
        body = response.get_json()
        assert body["total"] == db.session.scalar(sa.select(sa.func.count(Employee.id)))
        first = body["items"][0]
        assert set(first) >= {"username", "name", "centre", "roles", "status"}
    else:
        assert response.get_json()["error"]["code"] == "forbidden"


def test_employees_filter_by_status(api):
    db.session.scalar(sa.select(Employee).where(Employee.username == "lpe")).status = "left"
    db.session.commit()
    body = api("dpo").get("/api/v1/employees?status=left").get_json()
    assert [e["username"] for e in body["items"]] == ["lpe"] and body["total"] == 1


def test_one_employee_self_or_viewer(api):
    assert api("ahn").get("/api/v1/employees/ahn").status_code == 200
    assert api("ahn").get("/api/v1/employees/kfi").status_code == 403
    assert api("dpo").get("/api/v1/employees/nobody").status_code == 404


def test_session_login_also_works_for_the_api(client, login):
    login("ahn")
    assert client.get("/api/v1/me").get_json()["username"] == "ahn"


def test_openapi_describes_every_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = set(document["paths"])
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1")),
               method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item}
    assert routes == documented


def test_unknown_api_path_is_json_404(api):
    response = api("ahn").get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_openapi_document_is_valid(client):
    from openapi_spec_validator import validate
    validate(client.get("/api/v1/openapi.json").get_json())


@pytest.mark.parametrize("query, field", [("system=NOPE", "system"),
                                          ("grantee=zzz", "grantee")])
def test_a_grant_filter_naming_nothing_in_the_register_is_400(api, query, field):
    response = api("dpo").get(f"/api/v1/grants?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert api("dpo").get("/api/v1/grants?system=UIS&grantee=ahn").status_code == 200


def test_api_errors_speak_the_callers_language(api):
    """Every message is in the catalogue: Danish by default, English on request."""
    client = api("ahn")
    bare = client.post("/api/v1/requests", data="x", content_type="text/plain")
    assert bare.status_code == 400
    assert bare.get_json()["error"]["message"].startswith("Send et JSON-objekt")
    overdue = client.get("/api/v1/reviews/overdue")
    assert overdue.status_code == 403
    assert "overskredne revurderinger" in overdue.get_json()["error"]["message"]
    english = client.get("/api/v1/reviews/overdue", headers={"Accept-Language": "en"})
    assert "overdue reviews" in english.get_json()["error"]["message"]
    status = client.get("/api/v1/grants?status=gone")
    assert status.get_json()["error"]["message"].startswith("'status' skal være")
