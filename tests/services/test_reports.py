"""Reports and exports: the rows behind every download, and the status report's figures."""
import csv
import io
import json
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from governance.extensions import db
from governance.models import AccessRequest, AuditEntry, Grant, Review
from governance.services import reports
from governance.services.audit import entry_hash
from governance.services.errors import InvalidInput
from governance.services.tabular import FORMULA_STARTS, csv_chunks, xlsx_bytes

from .report_scenario import FORMULA_TASKS, actor, build_journey


@pytest.fixture
def journey(app):
    return build_journey()


def read_csv(table) -> list[dict]:
    text = b"".join(csv_chunks(table)).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def read_xlsx(table) -> list[dict]:
    sheet = load_workbook(io.BytesIO(xlsx_bytes(table))).worksheets[0]
    header, *rows = sheet.values
    return [dict(zip(header, row)) for row in rows]


def test_register_has_one_row_per_grant_with_approvers_and_ending(journey):
    rows = {row[0]: dict(zip(reports.REGISTER_COLUMNS, row))
            for row in reports.register_table(db.session).rows}
    assert set(rows) == set(db.session.scalars(sa.select(Grant.id)))
    kept = rows[journey.kept]
    assert (kept["grantee"], kept["grantee_name"], kept["system"], kept["status"]) == (
        "ahn", db.session.get(Grant, journey.kept).grantee.name, "UIS", "active")
    assert kept["approved_by"] == "kfi" and kept["data_categories"] == "residence"
    assert kept["created_in_system_at"] and kept["active_from"] and not kept["ended_at"]
    removed = rows[journey.removed]
    assert (removed["status"], removed["end_reason"]) == ("revoked", "Flyttet til andet team")
    assert removed["removed_at"] is not None
    assert rows[journey.revoked_open]["removed_at"] is None
    assert rows[journey.formula]["tasks"] == FORMULA_TASKS  # raw here; neutralised on writing


def test_register_csv_and_xlsx_rows_and_neutralised_formula(journey):
    table = lambda: reports.register_table(db.session)  # noqa: E731 - a fresh generator each
    # CSV has no types: a leading quote. XLSX types the cell as text, which no spreadsheet
    # runs, so the text stays as written.
    for rows, inert in ((read_csv(table()), "'" + FORMULA_TASKS),
                        (read_xlsx(table()), FORMULA_TASKS)):
        assert [int(r["id"]) for r in rows] == sorted(db.session.scalars(sa.select(Grant.id)))
        by_id = {int(r["id"]): r for r in rows}
        assert by_id[journey.formula]["tasks"] == inert
        assert by_id[journey.kept]["grantee"] == "ahn"
    csv_rows = read_csv(table())
    kept = next(r for r in csv_rows if int(r["id"]) == journey.kept)
    assert date.fromisoformat(kept["review_due"]) == date(journey.today.year + 1, 12, 1)
    assert datetime.fromisoformat(kept["approved_at"]).utcoffset() is not None


def test_review_log_lists_every_review(journey):
    rows = read_csv(reports.review_log_table(db.session))
    assert len(rows) == 1
    row = rows[0]
    assert (int(row["grant_id"]), row["decision"], row["reviewer"], row["comment"]) == (
        journey.kept, "keep", "kfi", "Behovet består")
    assert row["reviewed_on"] == journey.today.isoformat()


def unguard(text: str) -> str:
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_STARTS else text


def test_audit_export_can_be_rechecked_entry_by_entry(journey):
    rows = read_csv(reports.audit_table(db.session))
    assert [int(r["id"]) for r in rows] == list(
        db.session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)))
    previous = "0" * 64
    for row in rows:
        # Undo the formula guard, as the evidence pack's manifest describes it.
        fields = {key: unguard(row[key]) for key in (
            "actor", "action", "object_type", "object_id", "summary", "details",
            "client_address")}
        assert row["prev_hash"] == previous
        assert entry_hash(id=int(row["id"]), created_at=datetime.fromisoformat(row["time"]),
                          prev_hash=previous, **fields) == row["hash"]
        previous = row["hash"]
    refused = [r for r in rows if r["action"] == "request.refused"]
    assert len(refused) == 3 and json.loads(refused[0]["details"])["violations"]


def test_audit_export_stops_where_asked(journey):
    assert [row[0] for row in reports.audit_table(db.session, up_to=3).rows] == [1, 2, 3]


def test_review_report_for_the_year(journey):
    rows = {row.grant.id: row for row in
            reports.review_report(db.session, journey.today.year, journey.today)}
    assert set(rows) == {journey.kept, journey.revoked_open, journey.removed, journey.overdue}
    assert rows[journey.kept].status == "kept"
    assert rows[journey.kept].review.reviewer.username == "kfi"
    assert rows[journey.overdue].status == "overdue"
    assert rows[journey.overdue].due == journey.today - timedelta(days=10)
    assert rows[journey.removed].status == "ended"
    assert rows[journey.removed].remark() == "Flyttet til andet team"
    assert reports.review_report(db.session, journey.today.year - 1, journey.today) == []


def test_review_report_holds_access_created_but_never_acknowledged(journey):
    """Created in the system while its grantee has not acknowledged the lookup principles:
    never active, but held in the system all the same, so the year's report lists it."""
    from .report_scenario import approve, file
    from governance.services import grants as grant_service
    waiting = approve(file("sjo", "EINDKOMST", ("income",)))
    grant_service.fulfil(db.session, actor("mlu"), waiting.id, today=journey.today)
    db.session.commit()
    assert waiting.status == "approved" and waiting.activated_at is None
    rows = {row.grant.id: row for row in
            reports.review_report(db.session, journey.today.year, journey.today)}
    assert rows[waiting.id].status == "not_acknowledged"
    assert "has not acknowledged the lookup principles (principle 3)" in \
        rows[waiting.id].remark("en")
    cells = {row[1]: row for row in reports.review_report_table(
        list(rows.values()), journey.today.year, "en").rows}
    assert cells["sjo"][7] is None and cells["sjo"][9] == \
        "not active: principles not acknowledged"
    # Not held in a year before it was created in the system; the approved grant that was
    # never created (journey.formula) is in no year.
    assert journey.formula not in rows
    assert reports.review_report(db.session, journey.today.year - 1, journey.today) == []
    # Acknowledged later (the next year, say): the earlier year's report still lists it,
    # as not active then; the report of a past year does not change afterwards.
    from datetime import timezone
    grant_service.acknowledge(db.session, actor("sjo"), today=journey.today)
    db.session.commit()
    assert waiting.status == "active"
    waiting.fulfilled_at = datetime(journey.today.year - 1, 12, 20, 12, tzinfo=timezone.utc)
    db.session.commit()
    last_year = {row.grant.id: row for row in reports.review_report(
        db.session, journey.today.year - 1, journey.today)}
    assert last_year[waiting.id].status == "not_acknowledged"


def test_review_report_table_in_the_auditors_columns(journey):
    rows = reports.review_report(db.session, journey.today.year, journey.today)
    table = reports.review_report_table(rows, journey.today.year, "en")
    assert list(table.columns) == [
        "Name", "User", "Centre", "System", "Level", "Scope", "How granted", "Valid from",
        "Valid to", "Review status", "Review due", "Days overdue", "Reviewed by", "Date",
        "Remark"]
    cells = {row[1]: row for row in table.rows}
    kept = cells["ahn"]
    kept_grant = db.session.get(Grant, journey.kept)
    request_id = kept_grant.request_id
    assert kept[4:7] == ["read", "summary", f"request {request_id}, approved by kfi"]
    assert kept[7] == journey.today and kept[8] is None
    assert kept[9:] == ["kept", kept_grant.reviews[0].due_before, None, "kfi", journey.today,
                        "Behovet består"]
    assert cells["nra"][9:13] == ["overdue", journey.today - timedelta(days=10), 10, None]


def test_the_review_report_shows_what_was_late_and_what_ended_overdue(journey):
    """P5 as an auditor reads it: a review made after its due date says how late; an access
    that ended while its review was overdue is not 'ended without review' like one that
    ended before any review was due."""
    from governance.services import grants as grant_service
    kept = db.session.get(Grant, journey.kept)
    kept.reviews[0].due_before = journey.today - timedelta(days=5)
    grant_service.revoke(db.session, actor("kfi"), journey.overdue, "Opgaven er afsluttet")
    db.session.commit()
    rows = {row.grant.id: row for row in
            reports.review_report(db.session, journey.today.year, journey.today)}
    assert (rows[journey.kept].status, rows[journey.kept].days_overdue) == ("kept", 5)
    ended = rows[journey.overdue]
    assert (ended.status, ended.due, ended.days_overdue) == (
        "ended_overdue", journey.today - timedelta(days=10), 10)
    assert ended.remark() == "Opgaven er afsluttet"
    assert rows[journey.removed].status == "ended" and rows[journey.removed].days_overdue is None
    table = reports.review_report_table(list(rows.values()), journey.today.year, "en")
    statuses = {row[1]: row[9:12] for row in table.rows}
    assert statuses["nra"] == ["ended overdue, without review",
                               journey.today - timedelta(days=10), 10]


def test_a_review_that_revoked_and_statuses_for_past_years(journey):
    grant = db.session.get(Grant, journey.revoked_open)
    db.session.add(Review(grant=grant, reviewer_id=actor("tko").employee_id,
                          decision="revoke", comment="Ikke længere behov",
                          reviewed_on=journey.today, due_before=grant.review_due))
    db.session.commit()
    rows = {r.grant.id: r for r in reports.review_report(db.session, journey.today.year,
                                                         journey.today)}
    assert (rows[grant.id].status, rows[grant.id].remark()) == ("revoked", "Ikke længere behov")
    # Judged on a day before the due date, the same grant was not yet due.
    kept = db.session.get(Grant, journey.kept)
    assert reports.review_status(kept, None, journey.today - timedelta(days=1)) == "not_yet_due"
    assert reports.due_on(kept, journey.today - timedelta(days=1)) == kept.reviews[0].due_before


@pytest.mark.parametrize("value, year", [(None, 2026), ("", 2026), ("2025", 2025)])
def test_parse_cycle(value, year):
    assert reports.parse_cycle(value, date(2026, 5, 1)) == year


@pytest.mark.parametrize("value", ["26", "x", "1999", "2101"])
def test_parse_cycle_refuses_what_is_not_a_year(value):
    with pytest.raises(InvalidInput):
        reports.parse_cycle(value, date(2026, 5, 1))


def test_parse_period():
    today = date(2026, 5, 31)
    assert reports.parse_period({}, today) == (date(2026, 2, 28), today)
    assert reports.parse_period({"from": "2026-01-01", "to": "2026-03-31"}, today) == (
        date(2026, 1, 1), date(2026, 3, 31))
    for bad in ({"from": "2026-04-01", "to": "2026-03-01"}, {"to": "31-03-2026"}):
        with pytest.raises(InvalidInput):
            reports.parse_period(bad, today)


def test_status_report_figures_match_the_register(journey):
    start = journey.today - timedelta(days=30)
    report = reports.status_report(db.session, start, journey.today)

    statuses = db.session.scalars(sa.select(AccessRequest.status)).all()
    assert report.requests == {"pending": 1, "approved": 5, "rejected": 1, "withdrawn": 1}
    assert report.requests_total == len(statuses) == 8

    by_system = {system.code: count for system, count in report.grants_by_system}
    assert by_system == {"UIS": 1, "CPR": 0, "CVR": 0, "EINDKOMST": 1, "ACADRE": 0,
                         "FASIT": 0, "SAPA": 0}
    live = db.session.scalars(sa.select(Grant.id).where(Grant.status == "active")).all()
    assert report.active_grants == len(live) == 2

    assert report.reviews == {"keep": 1, "revoke": 0}
    assert [(g.id, due) for g, due in report.overdue] == [
        (journey.overdue, journey.today - timedelta(days=10))]

    refusals = db.session.scalars(sa.select(AuditEntry.details).where(
        AuditEntry.action == "request.refused")).all()
    assert report.refusals == len(refusals) == 3
    by_principle = {p: (n, codes) for p, n, codes in report.refusals_by_principle}
    assert by_principle["P7"][0] == 2 and by_principle["P7"][1]["SPECIAL_CATEGORY"] == 2
    assert by_principle["P1"][1]["NEED_NOT_RECURRING"] == 1
    expected = {}
    for details in refusals:
        for principle in {v["principle"] for v in json.loads(details)["violations"]}:
            expected[principle] = expected.get(principle, 0) + 1
    assert {p: n for p, (n, _codes) in by_principle.items()} == expected
    assert report.principles["P7"].title_en

    assert [g.id for g in report.removal_tasks] == [journey.revoked_open]


def test_status_report_for_a_period_before_anything_happened(journey):
    start = journey.today - timedelta(days=400)
    report = reports.status_report(db.session, start, start + timedelta(days=30))
    assert report.requests_total == 0 and report.active_grants == 0
    assert report.reviews == {"keep": 0, "revoke": 0}
    assert report.overdue == [] and report.refusals == 0 and report.removal_tasks == []


def test_status_report_counts_decisions_the_rules_refused(journey, client, login):
    """P4 in the directorate's follow-up: an approver deciding a request they filed for
    themselves is refused, audited, and counted by rule."""
    from governance.services import requests as request_service
    data = request_service.parse_request_input(
        {"grantee": "kfi", "system": "CVR", "frequency": "weekly",
         "tasks": "Kontrol af virksomheders registrering i sager om lovligt ophold",
         "data_categories": ["employment"]}, actor("kfi"))
    own, _result = request_service.request_access(db.session, actor("kfi"), data)
    db.session.commit()
    login("kfi")
    response = client.post(f"/requests/{own.id}/decision", data={"decision": "approve"})
    assert response.status_code == 422
    report = reports.status_report(db.session, journey.today - timedelta(days=1),
                                   journey.today)
    assert report.refused_decisions == {"SELF_DECISION": 1}
    login("dpo")
    page = client.get("/reports/status").get_data(as_text=True)
    section = page.split('id="refused-decisions"')[1].split("</section>")[0]
    assert "egen anmodning eller adgang (<code>SELF_DECISION</code>) 1" in section


def test_csv_quotes_every_field_so_a_semicolon_cannot_start_a_formula_cell():
    """Danish Excel splits a .csv on ';': '…;=cmd|…' inside a field must stay inside it."""
    from governance.services import tabular
    table = tabular.Table("t", ["tasks", "n"], [["Opslag;=cmd|' /C calc'!A0;x", 3],
                                                ["tab\t=1+1", None]])
    text = b"".join(tabular.csv_chunks(table)).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == '"tasks","n"'
    assert lines[1] == '"Opslag;=cmd|\' /C calc\'!A0;x","3"'
    assert lines[2] == '"tab\t=1+1",""'
