"""The centres and their managers: listed for those who see people, kept by the admin."""
import sqlalchemy as sa

from governance.extensions import db
from governance.models import AuditEntry, Centre


def centre(code: str) -> Centre | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Centre).where(Centre.code == code))


def last_audit() -> AuditEntry:
    return db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()


def test_the_centres_show_manager_and_active_employees(client, login):
    login("dpo")
    page = client.get("/centres/").get_data(as_text=True)
    row = page.split('id="centre-ØAC"')[1].split("</tr>")[0]
    assert "Klaus Fisker" in row and 'href="/employees/kfi"' in row
    assert 'href="/employees/?centre=%C3%98AC&amp;status=active"' in row
    assert 'id="new-centre"' not in page and "/edit" not in page
    assert 'id="centres"' in client.get("/employees/").get_data(as_text=True)


def test_an_administrator_adds_a_centre_with_a_manager(client, login):
    login("admin")
    assert 'id="new-centre"' in client.get("/centres/").get_data(as_text=True)
    response = client.post("/centres/new", data={"code": "kuc", "name": "Kultur- og "
                                                 "Fritidscenter", "manager": "tko"})
    assert response.status_code == 302 and response.location.endswith("/centres/#centre-KUC")
    added = centre("KUC")
    assert (added.name, added.manager.username) == ("Kultur- og Fritidscenter", "tko")
    entry = last_audit()
    assert (entry.action, entry.actor, entry.object_id) == ("centre.create", "admin", "KUC")
    # A new centre is at once a centre people can be placed in.
    assert 'value="KUC"' in client.get("/employees/new").get_data(as_text=True)


def test_a_refused_centre_names_the_field_and_writes_nothing(client, login):
    login("admin")
    before = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    for data, field in [({"code": "ØAC", "name": "Igen"}, "code"),
                        ({"code": "K U", "name": "Mellemrum"}, "code"),
                        ({"code": "KUC", "name": ""}, "name"),
                        ({"code": "KUC", "name": "Kultur", "manager": "nobody"}, "manager")]:
        response = client.post("/centres/new", data=data)
        assert response.status_code == 400, data
        assert f'id="{field}-error"' in response.get_data(as_text=True), data
    assert centre("KUC") is None
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == before


def test_an_administrator_changes_the_manager_but_not_the_code(client, login):
    login("admin")
    form = client.get("/centres/SAC/edit").get_data(as_text=True)
    assert 'value="SAC"' in form and "readonly" in form
    response = client.post("/centres/SAC/edit", data={"code": "XYZ", "name": "Social- og "
                           "Arbejdsmarkedscenter for voksne", "manager": "kfi"})
    assert response.status_code == 302
    assert centre("SAC").manager.username == "kfi" and centre("XYZ") is None
    entry = last_audit()
    assert (entry.action, entry.object_id) == ("centre.update", "SAC")
    assert '"manager":"kfi"' in entry.details
    client.post("/centres/SAC/edit", data={"name": centre("SAC").name, "manager": ""})
    assert centre("SAC").manager is None


def test_a_leaver_cannot_manage_a_centre(client, login):
    login("admin")
    client.post("/employees/mbe/leave", data={"confirm": "yes"})
    response = client.post("/centres/SAC/edit", data={"name": "SAC", "manager": "mbe"})
    assert response.status_code == 400
    assert "mbe" not in client.get("/centres/SAC/edit").get_data(as_text=True).split(
        'id="manager"')[1].split("</select>")[0]


def test_only_the_administrator_changes_centres(client, login):
    login("kfi")
    assert client.post("/centres/new", data={"code": "KUC", "name": "K"}).status_code == 403
    assert client.post("/centres/SAC/edit", data={"name": "K"}).status_code == 403
    assert centre("KUC") is None and centre("SAC").name != "K"
    login("admin")
    assert client.get("/centres/NOPE/edit").status_code == 404


def test_a_manager_who_left_is_marked_and_kept_until_a_successor_is_chosen(client, login):
    """Ole Sørensen (oso) manages BAC and leaves: the centres page says so, the edit page
    still shows him chosen, and saving a new name keeps him instead of dropping him unasked;
    the centre's address works in any case."""
    login("admin")
    assert client.post("/employees/oso/leave", data={"confirm": "yes"}).status_code == 302
    listed = client.get("/centres/").get_data(as_text=True)
    row = listed.split('id="centre-BAC"')[1].split("</tr>")[0]
    assert "Ole Sørensen" in row and "fratrådt: vælg en efterfølger" in row
    form = client.get("/centres/bac/edit").get_data(as_text=True)          # any case
    chosen = form.split('id="manager"')[1].split("</select>")[0]
    assert '<option selected value="oso">Ole Sørensen (oso), fratrådt<' in chosen
    saved = client.post("/centres/BAC/edit", data={"name": "Børne- og Ungecenter",
                                                    "manager": "oso"})
    assert saved.status_code == 302
    assert (centre("BAC").name, centre("BAC").manager.username) == ("Børne- og Ungecenter",
                                                                    "oso")
    refused = client.post("/centres/SAC/edit", data={"name": "SAC", "manager": "oso"})
    assert refused.status_code == 400                         # not a new centre to manage
    client.post("/centres/BAC/edit", data={"name": "Børne- og Ungecenter", "manager": "kfi"})
    assert centre("BAC").manager.username == "kfi"
    assert 'aria-label="Ret BAC"' in client.get("/centres/").get_data(as_text=True)
