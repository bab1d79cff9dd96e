"""Deny by default: every page of the app, for every role, is allowed or refused as this
table says, and a new page fails this test until someone decides who may see it."""
import re

import pytest

from ..services.workflow import approved_grant

ALL = {"requester", "approver", "user_admin", "dpo", "admin"}
USERS = {"requester": "mbe", "approver": "kfi", "user_admin": "rha", "dpo": "dpo",
         "admin": "admin"}
# Route -> roles allowed. The object in each route belongs to ahn (requested by ahn,
# approved by tko, UIS whose user administrator is rha): mbe is a stranger to it.
PAGES = {
    "/": ALL,
    "/requests/": ALL,
    "/requests/new": {"requester", "approver", "user_admin"},
    "/requests/<id:request_id>": {"approver", "user_admin", "dpo", "admin"},
    "/reviews/": {"approver"},
    "/grants/": {"approver", "user_admin", "dpo", "admin"},
    "/grants/at": {"approver", "dpo", "admin"},
    "/grants/at.csv": {"approver", "dpo", "admin"},
    "/grants/at.xlsx": {"approver", "dpo", "admin"},
    "/grants/tasks": {"user_admin"},
    "/grants/<id:grant_id>": {"approver", "user_admin", "dpo", "admin"},
    "/systems/": ALL,
    "/systems/<code>": ALL,
    "/employees/": {"approver", "user_admin", "dpo", "admin"},
    "/employees/<username>": {"approver", "user_admin", "dpo", "admin"},
    "/employees/new": {"admin"},
    "/employees/<username>/edit": {"admin"},
    "/centres/": {"approver", "user_admin", "dpo", "admin"},
    "/centres/new": {"admin"},
    "/centres/<centre_code>/edit": {"admin"},
    "/principles/": ALL,
    "/dashboard/": {"dpo", "admin"},
    "/dashboard/list/<name>": {"dpo", "admin"},
    "/dashboard/findings": {"dpo", "admin"},
    "/audit/": {"dpo", "admin"},
    "/audit/verify": {"dpo", "admin"},
    "/reports/": {"dpo", "admin"},
    "/reports/register.csv": {"dpo", "admin"},
    "/reports/register.xlsx": {"dpo", "admin"},
    "/reports/review-log.csv": {"dpo", "admin"},
    "/reports/review-log.xlsx": {"dpo", "admin"},
    "/reports/reviews": {"dpo", "admin", "approver"},
    "/reports/reviews.csv": {"dpo", "admin", "approver"},
    "/reports/reviews.xlsx": {"dpo", "admin", "approver"},
    "/reports/requests.csv": {"dpo", "admin"},
    "/reports/requests.xlsx": {"dpo", "admin"},
    "/reports/audit.csv": {"dpo", "admin"},
    "/reports/audit.xlsx": {"dpo", "admin"},
    "/reports/status": {"dpo", "admin"},
    "/reports/evidence.zip": {"dpo", "admin"},
}
PUBLIC = {"/login", "/health", "/favicon.ico", "/static/<path:filename>",
          "/api/v1/openapi.json"}


def page_routes(app) -> set[str]:
    return {rule.rule for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and not rule.rule.startswith("/api/")} - PUBLIC


def test_every_page_is_in_the_table(app):
    assert page_routes(app) == set(PAGES), "decide who may see the new page, in PAGES"


@pytest.fixture
def objects(app):
    grant = approved_grant(grantee="ahn", approvers=("tko",))
    return {"request_id": grant.request_id, "grant_id": grant.id, "code": "UIS",
            "username": "ahn", "name": "active", "centre_code": "ØAC"}


@pytest.mark.parametrize("role", sorted(USERS))
def test_each_page_allows_exactly_the_roles_in_the_table(app, client, login, objects, role):
    login(USERS[role])
    wrong = []
    for route in sorted(page_routes(app)):
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m: str(objects[m.group(1)]), route)
        response = client.get(path)
        status = response.status_code
        response.close()  # a download holds its file open until its response is closed
        expected = 200 if role in PAGES[route] else 403
        if status != expected:
            wrong.append(f"{path}: {status}, expected {expected}")
    assert wrong == []


def test_anonymous_is_sent_to_login_everywhere(app, client, objects):
    for route in page_routes(app):
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m: str(objects[m.group(1)]), route)
        response = client.get(path)
        assert response.status_code == 302 and response.location.startswith("/login"), path
