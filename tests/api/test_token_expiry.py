"""An API token works for a limited time: a year unless made for less, at most two."""
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from governance.extensions import db
from governance.models import ApiToken, AuditEntry, OutboxMessage, utcnow
from governance.services import auth, clock, reviews
from governance.services.actor import Actor
from governance.services.errors import InvalidInput


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def made(token: str) -> ApiToken:
    return db.session.scalar(sa.select(ApiToken).where(
        ApiToken.token_sha256 == auth.token_digest(token)))


def test_a_token_works_for_a_year_unless_made_for_less(app):
    year = auth.create_token(db.session, Actor.system("test"), "ahn")
    month = auth.create_token(db.session, Actor.system("test"), "ahn", 30)
    db.session.commit()
    for token, days in ((year, 365), (month, 30)):
        left = made(token).expires_at - utcnow()
        assert timedelta(days=days) - timedelta(minutes=1) < left <= timedelta(days=days)
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "token.create")
                               .order_by(AuditEntry.id.desc())).first()
    assert "valid until" in entry.summary and "expires_at" in entry.details


@pytest.mark.parametrize("days", [0, -1, 731])
def test_a_token_for_no_time_or_for_too_long_is_refused(app, days):
    with pytest.raises(InvalidInput) as refused:
        auth.create_token(db.session, Actor.system("test"), "ahn", days)
    assert refused.value.field == "days" and "1 to 730 days" in str(refused.value.message)


def test_an_expired_token_is_refused_saying_when_and_what_to_do(app, client):
    token = auth.create_token(db.session, Actor.system("test"), "ahn", 1)
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    made(token).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "token_expired"
    end = f"{made(token).expires_at:%Y-%m-%d %H:%M} UTC"
    assert error["message"] == (f"API-nøglen udløb {end}; en administrator laver en ny med "
                                "'flask --app wsgi token create ahn'.")
    english = client.get("/api/v1/me", headers={**bearer(token), "Accept-Language": "en"})
    assert f"The bearer token expired on {end}" in english.get_json()["error"]["message"]
    # A change with it is refused before anything is read or locked.
    assert client.post("/api/v1/acknowledgements", headers=bearer(token)).status_code == 401


def test_token_create_takes_days_and_token_list_shows_the_end(app, client):
    runner = app.test_cli_runner()
    made_for = runner.invoke(args=["token", "create", "kfi", "--days", "30"])
    assert made_for.exit_code == 0
    token = made_for.output.strip()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    end = made(token).expires_at.isoformat(timespec="minutes")
    listed = runner.invoke(args=["token", "list", "kfi"]).output
    assert f"expires {end}" in listed and "live" in listed
    made(token).expires_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert "\texpired" in runner.invoke(args=["token", "list", "kfi"]).output
    refused = runner.invoke(args=["token", "create", "kfi", "--days", "0"])
    assert refused.exit_code == 1 and "1 to 730 days" in refused.output


def test_reviews_remind_tells_owner_and_administrators_two_weeks_before_once(app):
    token = auth.create_token(db.session, Actor.system("test"), "rha", 20)
    far = auth.create_token(db.session, Actor.system("test"), "rha", 200)
    gone = auth.create_token(db.session, Actor.system("test"), "tbr", 10)
    auth.revoke_tokens(db.session, Actor.system("test"), "tbr")
    db.session.commit()
    number, today = made(token).id, clock.today()

    def remind(days: int):
        report = reviews.remind(db.session, Actor.system(), today + timedelta(days=days))
        db.session.commit()
        return report.token_reminders

    def told() -> list[tuple[str, str]]:
        return [(m.recipient.username, m.object_id) for m in db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.kind == "token.expiry")
            .order_by(OutboxMessage.id))]

    assert remind(5) == []                            # 15 days left
    assert remind(6) == [number]                      # 14 days left
    assert sorted(told()) == [("admin", str(number)), ("rha", str(number))]
    assert remind(7) == [] and len(told()) == 2       # once
    assert made(far).id not in remind(30) and made(gone).id not in remind(1)
    bodies = {m.recipient.username: m.body for m in db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "token.expiry"))}
    assert f"Din API-nøgle nr. {number} holder op med at virke" in bodies["rha"]
    assert "Rikke Hansens (rha) API-nøgle" in bodies["admin"]
    assert "om 14 dage" in bodies["admin"] and "token create rha" in bodies["admin"]
    entries = db.session.scalars(sa.select(AuditEntry.details).where(
        AuditEntry.action == "reviews.remind")).all()
    assert [e for e in entries if json.loads(e).get("token_reminders") == [number]]


def test_reviews_remind_says_how_many_tokens_are_about_to_expire(app):
    auth.create_token(db.session, Actor.system("test"), "admin", 3)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["reviews", "remind"])
    assert result.exit_code == 0
    assert "1 API token about to expire (owners and administrators told)" in result.output
