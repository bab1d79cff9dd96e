"""Reports pages and downloads: who may have them, and what is in them."""
import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from governance.config import PROJECT_ROOT
from governance.extensions import db
from governance.models import AccessRequest, Grant

from ..services.report_scenario import FORMULA_TASKS, build_journey

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DPO_ONLY = ["/reports/", "/reports/register.csv", "/reports/register.xlsx",
            "/reports/review-log.csv", "/reports/review-log.xlsx", "/reports/audit.csv",
            "/reports/audit.xlsx", "/reports/status",
            "/reports/status?from=2026-01-01&to=2026-03-31"]
REVIEW_REPORT = ["/reports/reviews", "/reports/reviews?cycle=2025",
                 "/reports/reviews.csv?cycle=2026", "/reports/reviews.xlsx"]


@pytest.fixture
def journey(app):
    return build_journey()


def csv_rows(response) -> list[dict]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[dict]:
    assert response.content_type == XLSX
    sheet = load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    header, *rows = sheet.values
    return [dict(zip(header, row)) for row in rows]


@pytest.mark.parametrize("username", ["dpo", "admin", "ahn", "kfi", "rha"])
def test_reports_by_role(client, login, username):
    login(username)
    for path in DPO_ONLY:
        assert client.get(path).status_code == (200 if username in ("dpo", "admin") else 403), path
    for path in REVIEW_REPORT:
        expected = 200 if username in ("dpo", "admin", "kfi") else 403
        assert client.get(path).status_code == expected, path


def test_index_lists_the_downloads_and_the_status_report(client, login):
    login("dpo")
    page = client.get("/reports/").get_data(as_text=True)
    for href in ("/reports/register.csv", "/reports/register.xlsx", "/reports/audit.csv",
                 "/reports/audit.xlsx", "/reports/review-log.csv", "/reports/status",
                 "/reports/reviews"):
        assert f'"{href}' in page, href


def test_register_downloads_neutralise_formulas(client, login, journey):
    login("dpo")
    response = client.get("/reports/register.csv")
    assert response.content_type == "text/csv; charset=utf-8"
    assert re.match(r'attachment; filename="register-\d{4}-\d\d-\d\d\.csv"',
                    response.headers["Content-Disposition"])
    assert response.headers["Cache-Control"] == "no-store"
    ids = sorted(db.session.scalars(sa.select(Grant.id)))
    # CSV has no types: a leading quote; XLSX types the cell as text, so no quote is seen.
    for rows, inert in ((csv_rows(response), "'" + FORMULA_TASKS),
                        (xlsx_rows(client.get("/reports/register.xlsx")), FORMULA_TASKS)):
        assert [int(r["id"]) for r in rows] == ids
        formula = next(r for r in rows if int(r["id"]) == journey.formula)
        assert formula["tasks"] == inert
        assert formula["grantee"] == "sjo" and formula["approved_by"] == "tko"


def test_audit_and_review_log_downloads(client, login, journey):
    login("admin")
    audit = csv_rows(client.get("/reports/audit.csv"))
    assert [int(r["id"]) for r in audit] == list(range(1, len(audit) + 1))
    assert xlsx_rows(client.get("/reports/audit.xlsx"))[-1]["hash"] == audit[-1]["hash"]
    reviews = xlsx_rows(client.get("/reports/review-log.xlsx"))
    assert [(r["grant_id"], r["decision"]) for r in reviews] == [(journey.kept, "keep")]


def test_the_audit_page_downloads_what_its_filters_find(client, login, journey):
    """The download under a filtered audit list is that list, whole, in chain order."""
    login("dpo")
    page = client.get("/audit/?actor=KFI&action=request.").get_data(as_text=True)
    link = re.search(r'href="(/reports/audit\.csv\?[^"]+)" id="audit-csv"', page).group(1)
    rows = csv_rows(client.get(link.replace("&amp;", "&")))
    assert rows and {(r["actor"], r["action"].split(".")[0]) for r in rows} == {
        ("kfi", "request")}
    assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)
    everything = csv_rows(client.get("/reports/audit.csv"))
    assert len(everything) > len(rows)
    assert f"{len(rows)} " in page.split('id="audit-csv"')[0].rsplit('<p class="muted">', 1)[1]
    assert client.get("/reports/audit.csv?from=yesterday").status_code == 400


def test_review_report_in_danish_for_an_approver(client, login, journey):
    login("kfi")
    year = journey.today.year
    response = client.get(f"/reports/reviews.csv?cycle={year}")
    assert f'filename="review-report-{year}.csv"' in response.headers["Content-Disposition"]
    rows = {r["Bruger"]: r for r in csv_rows(response)}
    assert set(rows) == {"ahn", "mbe", "lpe", "nra"}
    kept = rows["ahn"]
    request_id = db.session.get(Grant, journey.kept).request_id
    assert kept["Bevilget via"] == f"anmodning {request_id}, godkendt af kfi"
    assert (kept["Niveau"], kept["Omfang"]) == ("læseadgang", "overordnede oplysninger")
    assert (kept["Revurderingsstatus"], kept["Revurderet af"], kept["Bemærkning"]) == (
        "fastholdt", "kfi", "Behovet består")
    assert kept["Gyldig fra"] == journey.today.isoformat() and kept["Gyldig til"] == ""
    assert rows["nra"]["Revurderingsstatus"] == "overskredet"
    assert (rows["nra"]["Revurdering senest"], rows["nra"]["Dage overskredet"]) == (
        (journey.today - timedelta(days=10)).isoformat(), "10")
    xlsx = {r["Bruger"]: r for r in xlsx_rows(client.get(f"/reports/reviews.xlsx?cycle={year}"))}
    assert xlsx["ahn"]["Revurderingsstatus"] == "fastholdt"
    page = client.get(f"/reports/reviews?cycle={year}").get_data(as_text=True)
    assert f'data-grant="{journey.overdue}"' in page and "overskredet" in page


def test_bad_cycle_and_period_are_400(client, login):
    login("dpo")
    assert client.get("/reports/reviews.csv?cycle=abc").status_code == 400
    assert client.get("/reports/status?from=2026-05-01&to=2026-04-01").status_code == 400
    assert client.get("/reports/status?to=1-4-2026").status_code == 400


def figure(page: str, attribute: str, value: str) -> int:
    match = re.search(rf'<tr data-{attribute}="{value}">.*?<td class="number">(\d+)</td>',
                      page, re.S)
    return int(match.group(1))


def test_status_report_figures_match_its_lists(client, login, journey):
    login("dpo")
    start = (journey.today - timedelta(days=30)).isoformat()
    page = client.get(f"/reports/status?from={start}&to={journey.today}").get_data(
        as_text=True)
    assert [figure(page, "status", s) for s in ("pending", "approved", "rejected",
                                                "withdrawn")] == [1, 5, 1, 1]
    assert figure(page, "system", "UIS") == 1 and figure(page, "system", "EINDKOMST") == 1
    assert figure(page, "system", "CPR") == 0
    assert figure(page, "decision", "keep") == 1 and figure(page, "decision", "revoke") == 0
    overdue_list = re.search(r'id="overdue-list".*?</table>', page, re.S).group(0)
    assert figure(page, "decision", "overdue") == overdue_list.count("<tr data-grant=") == 1
    assert f'data-grant="{journey.overdue}"' in overdue_list
    assert figure(page, "principle", "P7") == 2
    removal_list = re.search(r'id="removal-list".*?</table>', page, re.S).group(0)
    assert re.findall(r'<tr data-grant="(\d+)"', removal_list) == [str(journey.revoked_open)]


def test_status_report_defaults_to_three_months_and_is_printable(client, login):
    login("dpo")
    page = client.get("/reports/status?as_of=2026-05-31").get_data(as_text=True)
    assert 'value="2026-02-28"' in page and 'value="2026-05-31"' in page
    # The CSP allows only 'self': no inline styles or scripts; print rules in the stylesheet.
    assert "<script" not in page and "<style" not in page and " style=" not in page
    assert "@media print" in (PROJECT_ROOT / "static" / "style.css").read_text()


def test_who_held_access_downloads_as_the_page_shows_it(client, login, journey):
    """The point-in-time answer for the inspector's file: one system, or every system."""
    login("dpo")
    day = journey.today.isoformat()
    page = client.get(f"/grants/at?system=UIS&date={day}").get_data(as_text=True)
    link = re.search(r'href="(/grants/at\.csv\?[^"]+)" id="held-csv"', page).group(1)
    response = client.get(link.replace("&amp;", "&"))
    assert f'filename="held-UIS-{day}.csv"' in response.headers["Content-Disposition"]
    uis = csv_rows(response)
    held = {r["grantee"] for r in uis}
    assert held and held == set(re.findall(r"\((\w+), [A-ZÆØÅ]+\)</td>", page))
    assert {r["system"] for r in uis} == {"UIS"}
    every = xlsx_rows(client.get(f"/grants/at.xlsx?as_of={day}"))
    assert {r["system"] for r in every} > {"UIS"} and len(every) > len(uis)
    # A system the register does not hold is said so, not answered with an empty file.
    for bad in ("NOPE", 'a"; filename=evil.exe; x="', "a\r\nb"):
        refused = client.get("/grants/at.csv", query_string={"system": bad, "date": day})
        assert refused.status_code == 400
    far = client.get("/grants/at?system=UIS&date=3000-01-01")
    assert far.status_code == 400
    said = far.get_data(as_text=True)
    assert "3000-01-01" in said and 'id="system"' in said     # on the form, which stays
    login("ahn")
    assert client.get("/grants/at.csv").status_code == 403


def test_every_request_downloads_with_its_decisions(client, login, journey):
    """What was asked, by whom for whom, and each approver's decision with its comment."""
    login("dpo")
    rows = {int(r["id"]): r for r in csv_rows(client.get("/reports/requests.csv"))}
    assert set(rows) == set(db.session.scalars(sa.select(AccessRequest.id)))
    rejected = rows[journey.rejected]
    assert (rejected["grantee"], rejected["system"], rejected["status"]) == ("mbe", "UIS",
                                                                           "rejected")
    assert re.fullmatch(r"tko reject \d{4}-\d\d-\d\d \d\d:\d\d: Ikke behov",
                        rejected["decisions"])
    assert rows[journey.withdrawn]["status"] == "withdrawn"
    assert rows[journey.pending]["decisions"] == ""
    assert {r["requester"] for r in rows.values()} >= {"ahn"}
    xlsx = xlsx_rows(client.get("/reports/requests.xlsx"))
    assert len(xlsx) == len(rows)
    login("kfi")
    assert client.get("/reports/requests.csv").status_code == 403


def test_the_dpo_downloads_the_evidence_pack_from_the_reports_page(app, client, login,
                                                                    journey, tmp_path):
    """The pack `flask export evidence` writes, without a shell on the server; nothing of it
    is left behind in the instance folder."""
    import json
    import zipfile
    (tmp_path / "instance").mkdir()
    app.instance_path = str(tmp_path / "instance")  # its own, to see that nothing is left
    login("dpo")
    assert 'href="/reports/evidence.zip"' in client.get("/reports/").get_data(as_text=True)
    response = client.get("/reports/evidence.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    pack = zipfile.ZipFile(io.BytesIO(response.get_data()))
    response.close()
    manifest = json.loads(pack.read("manifest.json"))
    assert {"register.csv", "requests.csv", "audit.csv", "audit-verification.json"} <= {
        f["path"] for f in manifest["files"]}
    assert json.loads(pack.read("audit-verification.json"))["ok"] is True
    assert list((tmp_path / "instance").iterdir()) == []
    head = client.head("/reports/evidence.zip")
    assert head.status_code == 200 and int(head.headers["Content-Length"]) > 0
    head.close()
    assert list((tmp_path / "instance").iterdir()) == []
    # What a worker killed mid-pack left behind is swept an hour on; a pack being built
    # now by another request is not.
    import os
    stale = tmp_path / "instance" / ".evidence-old.zip"
    partial = tmp_path / "instance" / "..evidence-old.zip.partial"
    fresh = tmp_path / "instance" / ".evidence-now.zip"
    for path in (stale, partial, fresh):
        path.write_bytes(b"x")
    for path in (stale, partial):
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime - 7200))
    client.get("/reports/evidence.zip").close()
    assert sorted(p.name for p in (tmp_path / "instance").iterdir()) == [fresh.name]
    login("kfi")
    assert client.get("/reports/evidence.zip").status_code == 403


def test_the_status_report_and_principles_name_the_rules_in_danish(client, login, api):
    from ..api.helpers import request_body
    api("ahn").post("/api/v1/requests", json=request_body(frequency="once"))
    login("dpo")
    report = client.get("/reports/status").get_data(as_text=True)
    assert "behovet er ikke løbende (<code>NEED_NOT_RECURRING</code>) 1" in report
    principles = client.get("/principles/").get_data(as_text=True)
    assert "følsomme personoplysninger (<code>SPECIAL_CATEGORY</code>)" in principles
