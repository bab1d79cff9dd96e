"""Every page for every role: allowed, or refused by the server (and not offered)."""
from html.parser import HTMLParser

import pytest

from ..services.workflow import approved_grant
from .test_query_counts import add_register

ROLES = {"requester": "ahn", "approver": "kfi", "user_admin": "rha", "dpo": "dpo",
         "admin": "admin"}
EVERYONE = set(ROLES)
PEOPLE_VIEWERS = {"approver", "user_admin", "dpo", "admin"}

PAGES = [
    ("/", EVERYONE),
    ("/systems/", EVERYONE),
    ("/systems/ACADRE", EVERYONE),
    ("/principles/", EVERYONE),
    ("/employees/", PEOPLE_VIEWERS),
    ("/employees/tko", PEOPLE_VIEWERS),
    ("/employees/new", {"admin"}),
    ("/employees/tko/edit", {"admin"}),
    ("/centres/", PEOPLE_VIEWERS),
    ("/centres/new", {"admin"}),
    ("/centres/ØAC/edit", {"admin"}),
]


@pytest.mark.parametrize("path, allowed", PAGES)
@pytest.mark.parametrize("role", sorted(ROLES))
def test_page_by_role(client, login, path, allowed, role):
    login(ROLES[role])
    response = client.get(path)
    assert response.status_code == (200 if role in allowed else 403)


@pytest.mark.parametrize("path", [p for p, _ in PAGES] + ["/employees/ahn", "/nope"])
def test_every_page_needs_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_own_employee_page_is_allowed(client, login):
    login("ahn")
    response = client.get("/employees/ahn")
    assert response.status_code == 200
    assert b"Anne Holm Nielsen" in response.data


@pytest.mark.parametrize("role, shown", [("requester", False), ("approver", True),
                                         ("dpo", True), ("admin", True)])
def test_employee_link_only_for_those_allowed(client, login, role, shown):
    login(ROLES[role])
    page = client.get("/").get_data(as_text=True)
    assert ('href="/employees/"' in page) is shown


def test_unknown_system_is_404(client, login):
    login("ahn")
    assert client.get("/systems/NOPE").status_code == 404


def test_system_page_shows_holdings_approvers_and_contacts(client, login):
    login("ahn")
    page = client.get("/systems/ACADRE").get_data(as_text=True)
    assert "Acadre (ESDH)" in page
    assert "Klaus Fisker" in page and "Tina Koudal" in page     # who approves
    assert "Helle Vinther" in page and "hvi@htk.dk" in page      # contact for child cases
    assert "Signe Nielsen" in page                              # user administrator


def test_principles_page_lists_all_seven_with_enforcement(client, login):
    login("ahn")
    page = client.get("/principles/").get_data(as_text=True)
    for n in range(1, 8):
        assert f'id="P{n}"' in page
    assert "arbejdsbetinget behov" in page
    assert "SPECIAL_CATEGORY" in page


def test_overview_lists_what_i_may_do(client, login):
    login("kfi")
    page = client.get("/").get_data(as_text=True)
    assert 'data-ability="decide_requests"' in page
    login("ahn")
    page = client.get("/").get_data(as_text=True)
    assert 'data-ability="request_access"' in page
    assert 'data-ability="decide_requests"' not in page


def test_employee_list_shows_everyone_with_status(client, login):
    login("dpo")
    page = client.get("/employees/").get_data(as_text=True)
    for username in ("kfi", "tko", "ahn", "dpo", "admin"):
        assert f'href="/employees/{username}"' in page


@pytest.mark.parametrize("path", ["/", "/systems/", "/login", "/nope"])
def test_security_headers_on_every_response(client, login, path):
    login("ahn")
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_error_page_is_friendly_and_has_no_trace(client, login):
    login("ahn")
    response = client.get("/employees/kfi")
    text = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Traceback" not in text and "sqlalchemy" not in text.lower()


@pytest.mark.parametrize("path", ["/requests/", "/grants/", "/dashboard/list/overdue",
                                  "/grants/at?system=UIS&date=2025-03-01"])
def test_a_page_number_past_the_limit_is_a_400_not_a_crash(client, login, path):
    login("dpo")
    sep = "&" if "?" in path else "?"
    response = client.get(f"{path}{sep}page=99999999999999999999")
    assert response.status_code == 400
    assert "Siden kan højst være nummer 1000000" in response.get_data(as_text=True)
    assert client.get(f"{path}{sep}page=1000000").status_code == 200


class _Ids(HTMLParser):
    """Every id attribute on a page, in order."""

    def __init__(self):
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.ids += [value for name, value in attrs if name == "id"]


@pytest.mark.parametrize("username, path", [
    ("kfi", "/reviews/"), ("kfi", "/requests/"), ("rha", "/grants/tasks"),
    ("dpo", "/dashboard/list/overdue"), ("dpo", "/grants/")])
def test_list_pages_give_each_id_once(app, client, login, username, path):
    """Labels, links to #grant-N and the browser's form handling need unique ids, however
    many rows repeat the same form (with CSRF on, as in production: its field has one)."""
    add_register(10)
    for grantee in ("mbe", "sjo"):  # two accesses for rha to create in UIS
        approved_grant(grantee=grantee, approvers=("kfi",))
    login(username)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.get(path)
    assert response.status_code == 200
    parser = _Ids()
    parser.feed(response.get_data(as_text=True))
    repeated = sorted({i for i in parser.ids if parser.ids.count(i) > 1})
    assert repeated == [], f"{path} repeats the ids {repeated}"


@pytest.mark.parametrize("user, path, field", [
    ("dpo", "/grants/?system=NOSUCH", "system"),
    ("dpo", "/dashboard/list/overdue?system=NOSUCH", "system"),
    ("admin", "/employees/?centre=NOSUCH", "centre"),
    ("admin", "/employees/?status=bogus", "status"),
    ("admin", "/employees/?q=" + "x" * 101, "q"),
    ("kfi", "/requests/?status=bogus", "status"),
])
def test_a_list_filter_the_list_cannot_take_is_a_400_that_names_it(client, login, user, path,
                                                                     field):
    """As in the API: a list that looks filtered and is not would mislead."""
    login(user)
    response = client.get(path)
    assert response.status_code == 400
    import html
    page = html.unescape(response.get_data(as_text=True))
    assert f"'{field}'" in page or "'NOSUCH'" in page


@pytest.mark.parametrize("user, path", [("dpo", "/grants/?system=uis"),
                                        ("dpo", "/dashboard/list/overdue?system=UIS"),
                                        ("admin", "/employees/?status=&centre="),
                                        ("kfi", "/requests/?status=")])
def test_a_list_filter_left_empty_or_in_another_case_is_taken(client, login, user, path):
    login(user)
    assert client.get(path).status_code == 200
