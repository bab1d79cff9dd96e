"""Who held access to a system on a date, answered from the history."""
from datetime import date, datetime, timezone

import pytest

from governance.extensions import db
from governance.services import grants as grant_service
from governance.services import listing

from .workflow import actor, approved_grant


def at(y, m, d, hour=12):
    return datetime(y, m, d, hour, tzinfo=timezone.utc)


@pytest.fixture
def history(app):
    """ahn held UIS from 2025-01-10 until removal on 2025-06-01; re-granted 2025-09-01."""
    first = approved_grant()
    first.approved_at, first.fulfilled_at, first.activated_at = at(2025, 1, 9), at(2025, 1, 10), \
        at(2025, 1, 10)
    first.status, first.ended_at, first.end_reason = "revoked", at(2025, 5, 30), "Afsluttet"
    first.removed_at = at(2025, 6, 1)
    db.session.commit()
    second = approved_grant()
    second.approved_at, second.fulfilled_at, second.activated_at = at(2025, 8, 30), \
        at(2025, 9, 1), at(2025, 9, 1)
    second.status = "active"
    db.session.commit()
    return first.id, second.id


@pytest.mark.parametrize("day, expected", [
    (date(2025, 1, 9), []),
    (date(2025, 1, 10), ["first"]),
    (date(2025, 3, 1), ["first"]),
    (date(2025, 5, 31), ["first"]),      # revoked, but not yet removed from the system
    (date(2025, 6, 1), ["first"]),       # removed during the day
    (date(2025, 6, 2), []),
    (date(2025, 9, 1), ["second"]),
    (date(2026, 1, 1), ["second"]),
])
def test_held_on(history, day, expected):
    ids = dict(zip(("first", "second"), history))
    rows, total = grant_service.visible_grants(db.session, actor("dpo"), system="UIS",
                                               as_of=day)
    assert [g.id for g in rows] == [ids[name] for name in expected]
    assert total == len(expected)
    # The page's rows (plain columns, see services/listing.py) answer the same.
    shown, shown_total = grant_service.visible_grant_rows(
        db.session, actor("dpo"), system="UIS", as_of=day, columns=listing.HELD_COLUMNS)
    assert ([g.id for g in shown], shown_total) == ([g.id for g in rows], total)
    assert all(row.approved_by == "kfi" for row in shown)


def test_other_systems_are_not_mixed_in(history):
    rows, _ = grant_service.visible_grants(db.session, actor("dpo"), system="CPR",
                                           as_of=date(2025, 3, 1))
    assert rows == []


def test_api_and_page_give_the_same_answer(history, api, client, login):
    body = api("dpo").get("/api/v1/grants?system=UIS&as_of=2025-03-01").get_json()
    assert [g["id"] for g in body["items"]] == [history[0]]
    assert body["items"][0]["approved_by"] == ["kfi"]
    assert body["items"][0]["tasks"].startswith("Kontrol")
    login("dpo")
    page = client.get("/grants/at?system=UIS&date=2025-03-01").get_data(as_text=True)
    assert f'/grants/{history[0]}"' in page and f'/grants/{history[1]}"' not in page
    assert "<td>kfi, 9. jan. 2025</td>" in page   # approved by whom, and when
    assert client.get("/grants/at?system=UIS&date=2025-13-01").status_code == 400


def test_not_yet_carried_out_was_never_held(app):
    grant = approved_grant()   # approved, but the user administrator has not created it
    rows, _ = grant_service.visible_grants(db.session, actor("dpo"), system="UIS",
                                           as_of=date.today())
    assert grant.id not in [g.id for g in rows]


@pytest.mark.parametrize("who, status", [("dpo", 200), ("kfi", 200), ("admin", 200),
                                         ("ahn", 403), ("rha", 403)])
def test_point_in_time_page_by_role(client, login, who, status):
    login(who)
    assert client.get("/grants/at").status_code == status
