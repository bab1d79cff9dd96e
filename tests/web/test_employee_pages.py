"""The employee register on the web: finding a person among thousands, and the
administrator's forms to add and change people (the same service as the HR feed)."""
import re

import pytest

import sqlalchemy as sa

from governance.extensions import db
from governance.models import AuditEntry, Employee
from governance.services import clock
from governance.web import day_text

NEW = {"username": "lmo", "name": "Lise Mølgaard", "email": "lmo@htk.dk", "centre": "SAC",
       "title": "Kontrolmedarbejder", "roles": ["requester"]}


def employee(username: str) -> Employee | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Employee).where(Employee.username == username))


def last_audit() -> AuditEntry:
    return db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()


def test_search_finds_by_name_username_or_title_ignoring_case_and_danish_letters(
        client, login):
    login("dpo")
    page = client.get("/employees/?q=holm").get_data(as_text=True)
    assert 'href="/employees/ahn"' in page and 'href="/employees/kfi"' not in page
    assert 'value="holm"' in page
    assert 'href="/employees/kfi"' in client.get("/employees/?q=KFI").get_data(as_text=True)
    by_title = client.get("/employees/?q=centerchef").get_data(as_text=True)
    assert 'href="/employees/kfi"' in by_title and 'href="/employees/tko"' in by_title
    # SQLite's own lower() knows only A-Z: 'Ø' must still match 'ø'.
    login("admin")
    client.post("/employees/new", data=dict(NEW, name="Øjvind Ærø"))
    login("dpo")
    assert 'href="/employees/lmo"' in client.get("/employees/?q=øjvind ærø").get_data(
        as_text=True)
    nothing = client.get("/employees/?q=%25_").get_data(as_text=True)
    assert 'id="no-employees"' in nothing and "Ingen passer til søgningen." in nothing


def test_the_list_filters_by_centre_and_status_and_pages_keep_the_filters(client, login):
    for n in range(105):
        db.session.add(Employee(username=f"x{n:03}", name=f"Person {n}", email="x@htk.dk",
                                centre=employee("ahn").centre, title=""))
    db.session.commit()
    login("dpo")
    page = client.get("/employees/?centre=ØAC").get_data(as_text=True)
    assert "x000" in page and 'href="/employees/tko"' not in page  # tko is in CBA
    assert 'rel="next" href="/employees/?centre=%C3%98AC&amp;page=2"' in page
    second = client.get("/employees/?centre=ØAC&page=2").get_data(as_text=True)
    assert "x104" in second
    left = client.get("/employees/?status=left").get_data(as_text=True)
    assert "x000" not in left


def test_an_administrator_adds_an_employee(client, login):
    login("admin")
    form = client.get("/employees/new").get_data(as_text=True)
    assert 'name="centre"' in form
    assert re.search(r'<input checked[^>]* value="requester"', form)  # requester by default
    assert not re.search(r'<input checked[^>]* value="admin"', form)
    response = client.post("/employees/new", data=NEW)
    assert response.status_code == 302 and response.location == "/employees/lmo"
    added = employee("lmo")
    assert (added.name, added.centre.code, added.roles) == ("Lise Mølgaard", "SAC",
                                                            ["requester"])
    entry = last_audit()
    assert (entry.action, entry.actor, entry.object_id) == ("employee.create", "admin", "lmo")
    assert "Lise Mølgaard er tilføjet" in client.get("/employees/lmo").get_data(as_text=True)


def test_a_refused_new_employee_names_the_field_keeps_the_input_and_writes_nothing(
        client, login):
    login("admin")
    before = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    for data, field in [(dict(NEW, username="l m/o"), "username"),
                        (dict(NEW, email="ikke-en-adresse"), "email"),
                        (dict(NEW, username="ahn"), "username"),
                        (dict(NEW, name=""), "name"),
                        (dict(NEW, centre="NOPE"), "centre"),
                        (dict(NEW, roles=["boss"]), "roles")]:
        response = client.post("/employees/new", data=data)
        assert response.status_code == 400, data
        page = response.get_data(as_text=True)
        assert f'id="{field}-error"' in page, (field, page)
        assert "Not a valid choice" not in page  # the service's words, in Danish
        assert 'value="Kontrolmedarbejder"' in page  # what was written stays in the form
    assert employee("lmo") is None
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == before


def test_an_administrator_changes_an_employee_but_not_the_username(client, login):
    login("admin")
    form = client.get("/employees/mbe/edit").get_data(as_text=True)
    assert 'value="Mads Bech"' in form and "readonly" in form
    response = client.post("/employees/mbe/edit", data={
        "username": "zzz", "name": "Mads Bech", "email": "mbe@htk.dk", "centre": "SAC",
        "title": "Dataanalytiker", "roles": ["requester", "user_admin"]})
    assert response.status_code == 302 and response.location == "/employees/mbe"
    changed = employee("mbe")
    assert (changed.centre.code, changed.roles) == ("SAC", ["requester", "user_admin"])
    assert employee("zzz") is None
    entry = last_audit()
    assert entry.action == "employee.update"
    assert '"centre":"ØAC"' in entry.details and '"centre":"SAC"' in entry.details
    assert 'id="edit-employee"' in client.get("/employees/mbe").get_data(as_text=True)


def test_an_administrator_cannot_remove_their_own_administrator_role(client, login):
    admin = login("admin")
    data = {"name": admin.name, "email": admin.email, "centre": admin.centre.code,
            "title": admin.title, "roles": ["requester"]}
    response = client.post("/employees/admin/edit", data=data)
    assert response.status_code == 400
    assert 'id="roles-error"' in response.get_data(as_text=True)
    assert "admin" in employee("admin").roles


def test_a_leaver_is_not_edited_and_others_do_not_see_the_forms(client, login):
    login("admin")
    client.post("/employees/mbe/leave", data={"confirm": "yes"})
    assert client.get("/employees/mbe/edit").status_code == 409
    page = client.get("/employees/mbe").get_data(as_text=True)
    assert 'id="edit-employee"' not in page
    left = f"fratrådt</span> {day_text(clock.today(), 'da')}"
    assert left in page                         # the day they left, in the list too
    assert left in client.get("/employees/?status=left").get_data(as_text=True)
    login("dpo")
    assert 'id="new-employee"' not in client.get("/employees/").get_data(as_text=True)
    assert 'id="edit-employee"' not in client.get("/employees/tko").get_data(as_text=True)
    assert client.post("/employees/new", data=NEW).status_code == 403
    assert client.post("/employees/tko/edit", data=NEW).status_code == 403
    assert employee("lmo") is None


def test_an_employee_page_lists_their_acknowledgements(client, login):
    """P3 in front of the inspector: when each person acknowledged the lookup principles."""
    login("dpo")
    assert "Ikke kvitteret endnu" in client.get("/employees/mbe").get_data(as_text=True)
    login("mbe")
    client.post("/principles/acknowledge")
    login("dpo")
    page = client.get("/employees/mbe").get_data(as_text=True)
    listed = page.split('id="acknowledgements">')[1].split("</p>")[0]
    assert listed == day_text(clock.today(), "da")


def leave_in_english(client, login, username: str) -> str:
    """The admin marks `username` as left with the pages in English; the page that follows."""
    login("admin")
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client.post(f"/employees/{username}/leave", data={"confirm": "yes"},
                       follow_redirects=True).get_data(as_text=True)


def test_marking_a_leaver_says_what_they_are_still_named_as(client, login):
    """A user administrator, owner or contact person who leaves leaves work undone until the
    seed names someone else; the administrator is told at once, the dashboard keeps it."""
    page = leave_in_english(client, login, "lan")
    assert "lan is still named in the register: Contact person for" in page
    assert "Sole user administrator of SAPA." in page
    assert "Contact person for" in page and "in SAPA" in page
    assert "names someone else in the register&#39;s set-up (seed/systems.yaml)" in page
    board = client.get("/dashboard/").get_data(as_text=True)
    assert 'id="vacancy-list"' in board
    assert "Line Andersen (lan)" in board
    client.post("/employees/tko/leave", data={"confirm": "yes"})
    board = client.get("/dashboard/").get_data(as_text=True)
    assert "Named approver in the policy &#39;eu-oest&#39;" in board
    assert "System owner of FASIT" in board and "System owner of SAPA" in board
    assert "a new version of the policy drawn up that names another approver" in board
    # tko managed CBA: the centre's manager is a duty too, resolved on the centre's page.
    assert "Manager of the centre CBA" in board
    assert "names the centre&#39;s new manager under Centre" in board


def test_a_leaver_with_no_duties_is_not_warned(client, login):
    login("admin")
    page = client.post("/employees/mbe/leave", data={"confirm": "yes"},
                       follow_redirects=True).get_data(as_text=True)
    assert "stadig navngivet" not in page and "still named" not in page
    assert 'id="vacancy-list"' not in client.get("/dashboard/").get_data(as_text=True)


@pytest.mark.parametrize("field, value, char", [
    ("title", "Kontrol\x07medarbejder", "U+0007"),
    ("title", "Kontrol\x1bmedarbejder", "U+001B"),
    ("name", "Lise \u202eMølgaard", "U+202E"),     # displays reversed after it
    ("name", "Lise\nMølgaard", "U+000A"),
])
def test_a_character_the_register_cannot_keep_is_refused_on_its_field(client, login, field,
                                                                      value, char):
    login("admin")
    response = client.post("/employees/new", data={**NEW, field: value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and char in page
    assert employee("lmo") is None


def test_the_forms_own_messages_are_in_danish(client, login):
    login("admin")
    page = client.post("/employees/new", data={**NEW, "name": "x" * 201}).get_data(as_text=True)
    assert "Feltet må højst være 200 tegn langt." in page
    assert "Field cannot be longer" not in page


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "multipart/form-data"])
def test_a_nul_character_in_a_form_writes_nothing(client, login, content_type):
    login("admin")
    response = client.post("/employees/new", data={**NEW, "name": "Lise\x00Mølgaard"},
                           content_type=content_type)
    assert response.status_code == 400
    assert employee("lmo") is None



def test_a_name_typed_decomposed_is_kept_composed_and_a_password_as_typed(client, login, app):
    import unicodedata
    login("admin")
    client.post("/employees/new", data={**NEW, "name": unicodedata.normalize("NFD", "Søren Ærø")})
    assert employee("lmo").name == unicodedata.normalize("NFC", "Søren Ærø")
    password = unicodedata.normalize("NFD", "blåbærgrød-2026")
    assert app.test_cli_runner().invoke(args=["user", "set-password", "mbe"],
                                        input=password + "\n").exit_code == 0
    client.post("/logout")
    assert client.post("/login", data={"username": "mbe", "password": password}
                       ).status_code == 302


def test_leaving_from_an_address_in_another_case_still_says_what_they_are_named_as(client,
                                                                                 login):
    page = leave_in_english(client, login, "LAN")
    assert "lan is still named in the register" in page


def test_the_leaver_form_takes_the_last_day_and_refuses_one_ahead(client, login):
    """As the HR feed may: the day the person left, when the register hears of it later;
    a day ahead is said on the person's page, and nothing changes."""
    from datetime import timedelta

    login("admin")
    page = client.get("/employees/mbe").get_data(as_text=True)
    assert 'type="date" id="left_on" name="left_on"' in page
    ahead = (clock.today() + timedelta(days=2)).isoformat()
    refused = client.post("/employees/mbe/leave", data={"confirm": "yes", "left_on": ahead},
                          follow_redirects=True)
    assert "kan ikke ligge efter i dag" in refused.get_data(as_text=True)
    assert employee("mbe").status == "active"
    last_day = (clock.today() - timedelta(days=4)).isoformat()
    client.post("/employees/mbe/leave", data={"confirm": "yes", "left_on": last_day})
    db.session.expire_all()
    assert (employee("mbe").status, employee("mbe").left_on.isoformat()) == ("left", last_day)
