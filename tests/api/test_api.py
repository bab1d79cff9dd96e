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
    assert ("API-nøglen mangler" if header else "laver et token med") in danish
    assert ("bearer token is missing" if header else "creates a token with") in english["error"][
        "message"]


def test_api_answers_say_their_language_and_how_to_authenticate(client, api):
    refused = client.get("/api/v1/me")
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    english = api("kfi").get("/api/v1/me", headers={"Accept-Language": "en"})
    assert english.headers["Content-Language"] == "en"
    assert "Accept-Language" in english.headers["Vary"]
    assert api("kfi").get("/api/v1/me").headers["Content-Language"] == "da"


@pytest.mark.parametrize("method, path, status, danish, english", [
    ("get", "/api/v1/nothing-here", 404, "Der findes ingen /api/v1/nothing-here i dette API",
     "There is no /api/v1/nothing-here in this API"),
    ("get", "/api/v1/requests/abc", 404, "Der findes ingen", "There is no"),
    ("put", "/api/v1/requests", 405, "PUT er ikke tilladt på /api/v1/requests; tilladt: GET, POST",
     "PUT is not allowed on /api/v1/requests; allowed: GET, POST"),
])
def test_routing_errors_are_in_the_callers_language(api, method, path, status, danish, english):
    caller = api("kfi")
    da = getattr(caller, method)(path)
    en = getattr(caller, method)(path, headers={"Accept-Language": "en"})
    assert da.status_code == en.status_code == status
    assert danish in da.get_json()["error"]["message"]
    assert english in en.get_json()["error"]["message"]


def test_a_body_over_the_limit_is_413_in_the_callers_language(api):
    response = api("ahn").post("/api/v1/requests", data="x" * (1024 * 1024 + 1),
                               content_type="application/json")
    assert response.status_code == 413
    assert "1.048.576 bytes" in response.get_json()["error"]["message"]


def test_a_chunked_body_over_the_limit_is_413_not_cut_short(api):
    """Sent without a length (Transfer-Encoding: chunked), the body is cut at the limit as
    it is read; that is a 413 too, not a 400 about JSON that ends in the middle."""
    import io
    import json as json_module
    big = json_module.dumps({"tasks": "x" * (3 * 1024 * 1024)}).encode()
    response = api("ahn").post("/api/v1/requests", input_stream=io.BytesIO(big),
                               headers={"Transfer-Encoding": "chunked",
                                        "Content-Type": "application/json"},
                               # as gunicorn says of a chunked body it has ended
                               environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413, response.get_json()


@pytest.mark.parametrize("path, name, said", [
    ("/api/v1/employees?centre=NOPE", "centre", "'NOPE'"),
    ("/api/v1/systems?foo=bar", "foo", "'foo'"),
    ("/api/v1/grants?stauts=active", "stauts", "this takes: as_of, grantee, page"),
    ("/api/v1/me?as_of=2026-01-01", "as_of", "'as_of'")])
def test_an_unknown_or_wrong_query_parameter_is_400_naming_it(api, path, name, said):
    response = api("admin").get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == name and said in error["message"]


def test_employees_are_filtered_by_centre_and_text(api):
    caller = api("admin")
    cba = caller.get("/api/v1/employees?centre=CBA&per_page=500").get_json()
    assert cba["total"] > 0 and {e["centre"] for e in cba["items"]} == {"CBA"}
    found = caller.get("/api/v1/employees?q=fisker").get_json()
    assert [e["username"] for e in found["items"]] == ["kfi"]


def test_malformed_json_says_where(api):
    response = api("ahn").post("/api/v1/requests", data='{"grantee": "ahn",\n bad}',
                               content_type="application/json",
                               headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "not valid JSON" in response.get_json()["error"]["message"]
    assert "line 2, column 2" in response.get_json()["error"]["message"]


def test_a_post_that_takes_no_fields_says_so(api, app):
    from .helpers import file_request
    request_id = file_request(api)
    response = api("ahn").post(f"/api/v1/requests/{request_id}/withdraw", json={"reason": "x"},
                               headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "This takes no fields: leave out 'reason'" in response.get_json()["error"]["message"]
    assert api("ahn").post(f"/api/v1/requests/{request_id}/withdraw").status_code == 200


def test_the_dpo_acknowledges_nothing(api, client, login):
    response = api("dpo").post("/api/v1/acknowledgements")
    assert response.status_code == 403
    login("dpo")
    assert "principles/acknowledge" not in client.get("/principles/").get_data(as_text=True)


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


def test_openapi_says_a_rejection_needs_a_comment(client):
    """The schema of a decision holds what the API enforces: an integrator's validator
    refuses a rejection without a comment before the API's 400 does."""
    import jsonschema
    document = client.get("/api/v1/openapi.json").get_json()
    schema = document["paths"]["/requests/{request_id}/decision"]["post"]["requestBody"][
        "content"]["application/json"]["schema"]
    valid = jsonschema.Draft202012Validator(schema)
    assert valid.is_valid({"decision": "approve"})
    assert valid.is_valid({"decision": "reject", "comment": "Ikke arbejdsbetinget"})
    for body in ({"decision": "reject"}, {"decision": "reject", "comment": "  "}):
        assert not valid.is_valid(body)


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


def test_what_is_created_says_where_it_is(api):
    from .helpers import request_body
    filed = api("ahn").post("/api/v1/requests", json=request_body())
    assert filed.status_code == 201
    assert filed.headers["Location"] == f"/api/v1/requests/{filed.get_json()['id']}"
    assert api("ahn").get(filed.headers["Location"]).status_code == 200
    made = api("admin").post("/api/v1/employees", json={
        "username": "lmo", "name": "Lise Mølgaard", "email": "lmo@htk.dk", "centre": "SAC"})
    assert made.headers["Location"] == "/api/v1/employees/lmo"



def test_the_audit_trail_filters_refusals_by_principle(api):
    from .helpers import request_body
    api("ahn").post("/api/v1/requests", json=request_body(system="CPR",
                                                          data_categories=["religion"]))
    found = api("dpo").get("/api/v1/audit?principle=P7")
    assert found.status_code == 200, found.get_json()
    assert found.get_json()["total"] >= 1
    assert all(e["action"] == "request.refused" for e in found.get_json()["items"])


def test_the_principle_filter_finds_refused_decisions_too(api):
    """A refused decision names only its codes; SELF_DECISION belongs to principle 4."""
    from .helpers import file_request
    request_id = file_request(api, requester="kfi", grantee="kfi")
    assert api("kfi").post(f"/api/v1/requests/{request_id}/decision",
                           json={"decision": "approve"}).status_code == 422
    found = api("dpo").get("/api/v1/audit?principle=P4&per_page=500").get_json()
    assert "request.decision_refused" in {e["action"] for e in found["items"]}
    assert "request.create" not in {e["action"] for e in found["items"]}
    p7 = api("dpo").get("/api/v1/audit?principle=P7&per_page=500").get_json()
    assert "request.decision_refused" not in {e["action"] for e in p7["items"]}


def test_a_read_goes_on_when_its_last_use_cannot_be_written(api, monkeypatch):
    """The token's "last used" is written at once by a read, best effort: a busy database
    does not turn the read into a 503."""
    from sqlalchemy.exc import OperationalError
    caller = api("ahn")          # the token exists, never used

    real, calls = db.session.commit, []

    def busy_once():   # the token's write finds the database busy; later commits work
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("UPDATE api_tokens", {}, Exception("database is locked"))
        return real()
    monkeypatch.setattr(db.session, "commit", busy_once)
    response = caller.get("/api/v1/me")
    assert response.status_code == 200 and response.get_json()["username"] == "ahn"
    assert calls   # the write was tried


@pytest.mark.parametrize("username, status", [("ahn", 403), ("rha", 403), ("kfi", 200),
                                              ("dpo", 200), ("admin", 200)])
def test_who_held_access_on_a_day_is_asked_by_the_same_people_as_on_the_page(
        api, client, login, username, status):
    """The API obeys the page's permission: who held access on a day (?as_of=) is the
    approvers', the DPO's and the admins' question; the list itself stays the caller's."""
    from governance.services import clock
    day = clock.today().isoformat()
    assert api(username).get(f"/api/v1/grants?as_of={day}").status_code == status
    assert api(username).get("/api/v1/grants").status_code == 200
    login(username)
    assert client.get(f"/grants/at?system=UIS&date={day}").status_code == status
