"""The audit trail: one writer, hash-chained, append-only in the database, verifiable."""
import json
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from governance.extensions import db
from governance.models import AuditEntry, AuditHead
from governance.services import audit


def record(actor="ahn", action="test.event", **extra):
    return audit.record(db.session, actor=actor, action=action, object_type="thing",
                        object_id=extra.pop("object_id", 1), summary="A test event",
                        details=extra or {"before": None, "after": {"x": 1}},
                        client_address="127.0.0.1")


def test_entries_chain_from_genesis(empty_app):
    first, second = record(), record(object_id=2)
    db.session.commit()
    assert first.prev_hash == audit.GENESIS_HASH
    assert second.prev_hash == first.hash
    assert [first.id, second.id] == [1, 2]
    assert json.loads(first.details) == {"before": None, "after": {"x": 1}}
    assert first.created_at.tzinfo is not None and first.created_at.utcoffset().total_seconds() == 0
    head = db.session.get(AuditHead, 1)
    assert (head.entries, head.last_hash) == (2, second.hash)
    assert audit.verify_chain(db.session).as_dict() == {
        "ok": True, "entries": 2, "broken_entry": None, "reason": "", "last_hash": second.hash}


def test_entry_without_change_rolls_back_with_it(empty_app):
    record()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0
    assert audit.verify_chain(db.session).ok


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET summary = 'changed' WHERE id = 1",
    "DELETE FROM audit_entries WHERE id = 1",
])
def test_database_rejects_update_and_delete(empty_app, statement):
    record()
    db.session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert db.session.get(AuditEntry, 1).summary == "A test event"


def chain_of(n: int) -> None:
    """n committed entries, and a fresh session to look at them with."""
    for i in range(n):
        record(object_id=i)
    db.session.commit()
    db.session.remove()


def tamper(sql: str) -> None:
    """Change an entry behind the application's back, as an attacker with the DB would."""
    engine = db.engine
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_entries_no_update")
            conn.exec_driver_sql(sql)
        else:
            conn.exec_driver_sql("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change")
            conn.exec_driver_sql(sql)
            conn.exec_driver_sql("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_change")


def test_verify_names_the_first_altered_entry(empty_app):
    chain_of(5)
    tamper("UPDATE audit_entries SET summary = 'nothing to see' WHERE id = 3")
    report = audit.verify_chain(db.session)
    assert (report.ok, report.broken_id, report.entries) == (False, 3, 2)
    assert "altered" in report.reason
    result = empty_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "entry 3" in result.output


def test_verify_notices_a_relinked_chain(empty_app):
    chain_of(3)
    tamper("UPDATE audit_entries SET prev_hash = '" + "f" * 64 + "' WHERE id = 2")
    report = audit.verify_chain(db.session)
    assert (report.ok, report.broken_id) == (False, 2)
    assert "link" in report.reason


def test_verify_notices_a_truncated_tail(empty_app):
    chain_of(3)
    engine = db.engine
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_entries_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change")
        conn.exec_driver_sql("DELETE FROM audit_entries WHERE id = 3")
    report = audit.verify_chain(db.session)
    assert not report.ok and report.broken_id == 3


def test_verify_cli_passes_on_an_intact_chain(empty_app):
    record()
    db.session.commit()
    result = empty_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "1 entries verified" in result.output


def test_concurrent_appends_never_fork_the_chain(empty_app):
    """Eight threads appending at once: one linear chain, every entry kept."""
    app = empty_app
    errors: list[Exception] = []

    def append(n: int) -> None:
        with app.app_context():
            try:
                for i in range(5):
                    record(actor=f"user{n}", object_id=f"{n}-{i}")
                    db.session.commit()
            except Exception as exc:  # reported below; a thread cannot raise into pytest
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = audit.verify_chain(db.session)
    assert report.ok and report.entries == 40


@pytest.mark.parametrize("altered, relinked", [(7, None), (None, 6), (2, None)])
def test_parallel_walk_names_the_same_first_broken_entry(empty_app, altered, relinked):
    """A long chain is walked by several processes; the verdict is the sequential one."""
    for n in range(12):
        record(object_id=n)
    db.session.commit()
    assert audit.verify_chain(db.session, workers=3).as_dict()["ok"]
    db.session.remove()
    if altered:
        tamper(f"UPDATE audit_entries SET summary = 'x' WHERE id = {altered}")
    if relinked:
        tamper(f"UPDATE audit_entries SET prev_hash = '{'e' * 64}' WHERE id = {relinked}")
    sequential = audit.verify_chain(db.session, workers=1)
    parallel = audit.verify_chain(db.session, workers=3)
    assert not sequential.ok
    assert (parallel.ok, parallel.broken_id, parallel.entries) == \
        (sequential.ok, sequential.broken_id, sequential.entries)
    assert parallel.broken_id == (altered or relinked)


def test_verify_notices_a_moved_timestamp(empty_app):
    """The stamp is hashed as UTC text; moving an entry in time breaks it on either engine."""
    chain_of(3)
    tamper("UPDATE audit_entries SET created_at = created_at - INTERVAL '1 hour' WHERE id = 2"
           if db.engine.dialect.name == "postgresql" else
           "UPDATE audit_entries SET created_at = datetime(created_at, '-1 hour') WHERE id = 2")
    report = audit.verify_chain(db.session)
    assert (report.ok, report.broken_id, report.entries) == (False, 2, 1)
    assert "altered" in report.reason


def test_verify_names_an_entry_whose_timestamp_is_no_text(empty_app):
    """SQLite keeps whatever is written around the app, bytes in a timestamp column too: the
    walk names the entry as altered instead of failing on it."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's column types refuse bytes in a timestamp column")
    chain_of(3)
    tamper("UPDATE audit_entries SET created_at = X'00' WHERE id = 3")
    report = audit.verify_chain(db.session)
    assert (report.ok, report.broken_id) == (False, 3)
    assert "altered" in report.reason


def rewrite_from(entry_id: int, actor: str) -> None:
    """An attacker with write access and the (public) hash formula: change an entry, then
    recompute every later hash and the chain head, so that the chain verifies again."""
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    previous = audit.GENESIS_HASH
    changes = []
    for entry in entries:
        fields = audit._hashed_fields(entry)
        if entry.id == entry_id:
            fields["actor"] = actor
        fields["prev_hash"] = previous
        previous = audit.entry_hash(**fields)
        changes.append((entry.id, fields["actor"], fields["prev_hash"], previous))
    db.session.remove()

    def case(column: int) -> str:
        return "CASE id " + " ".join(f"WHEN {c[0]} THEN '{c[column]}'" for c in changes) + \
            " END"
    tamper(f"UPDATE audit_entries SET actor = {case(1)}, prev_hash = {case(2)}, "
           f"hash = {case(3)}")
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE audit_head SET last_hash = '{previous}' WHERE id = 1")


def test_a_noted_anchor_catches_a_chain_rewritten_or_cut_back(empty_app):
    """Whoever can write to the database can rewrite the chain after an entry and recompute
    every hash, or cut the tail and move the head: it verifies again. The last entry and
    hash that an earlier verification printed, kept outside, catch both."""
    chain_of(5)
    report = audit.verify_chain(db.session)
    assert report.ok and report.last_hash == db.session.get(AuditEntry, 5).hash
    noted = (5, report.last_hash[:16])          # the first 16 characters are enough
    assert audit.verify_chain(db.session, anchor=noted).ok
    rewrite_from(2, "tko")
    assert audit.verify_chain(db.session).ok    # the rewrite holds together on its own
    caught = audit.verify_chain(db.session, anchor=noted)
    assert (caught.ok, caught.broken_id, caught.kind) == (False, 5, "anchor_changed")
    assert "rewritten" in caught.reason
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify", "--anchor", f"5:{report.last_hash}"])
    assert result.exit_code == 1 and "entry 5" in result.output
    assert "does not hold the anchor" in result.output and "verified before it" not in \
        result.output
    now = audit.verify_chain(db.session)
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER audit_entries_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_entries DISABLE TRIGGER "
                                 "audit_entries_no_change")
        conn.exec_driver_sql("DELETE FROM audit_entries WHERE id = 5")
        four = conn.exec_driver_sql("SELECT hash FROM audit_entries WHERE id = 4").scalar()
        conn.exec_driver_sql(f"UPDATE audit_head SET last_hash = '{four}', entries = 4")
    assert audit.verify_chain(db.session).ok
    cut = audit.verify_chain(db.session, anchor=(5, now.last_hash))
    assert (cut.ok, cut.broken_id, cut.kind) == (False, 5, "anchor_missing")


def test_verify_prints_the_line_to_keep_and_refuses_a_malformed_anchor(empty_app):
    chain_of(3)
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    last = db.session.get(AuditEntry, 3).hash
    assert result.exit_code == 0 and f"Last entry: 3:{last}" in result.output
    again = runner.invoke(args=["audit", "verify", "--anchor", f"3:{last}"])
    assert again.exit_code == 0 and "entry 3 as noted earlier" in again.output
    for bad in ("3", "x:" + last, "3:" + last[:8], "3:" + "z" * 64, "0:" + last, "", "  "):
        refused = runner.invoke(args=["audit", "verify", "--anchor", bad])
        assert refused.exit_code == 1 and "NUMBER:HASH" in refused.output, bad


def test_an_anchor_on_an_empty_chain_is_missing_not_a_crash(empty_app):
    report = audit.verify_chain(db.session, anchor=(1, "0" * 16))
    assert (report.ok, report.kind, report.broken_id) == (False, "anchor_missing", 1)


def test_the_register_agrees_with_its_audit_trail_until_a_row_is_changed_around_the_app(
        app, client, login, api):
    """Every way a grant changes (created, carried out, active, kept at review, revoked,
    removed) is replayed from the trail; a removal written straight into the table, a
    status put back, or a review date moved shows, as does a row with no entry at all."""
    from datetime import timedelta

    from governance.models import Grant
    from governance.services import clock
    from governance.services import grants as grant_service
    from governance.services import reviews
    from governance.services.reconcile import reconcile_grants

    from .workflow import active_grant, actor, approved_grant
    kept = active_grant(clock.today())
    reviews.review(db.session, actor("kfi"), kept.id, "keep", "Behovet består", clock.today())
    ended = active_grant(clock.today(), grantee="mbe", system="CVR", user_admin="ekj",
                         categories=("identity",))
    grant_service.revoke(db.session, actor("kfi"), ended.id, "Opgaven er afsluttet")
    grant_service.fulfil(db.session, actor("ekj"), ended.id)
    waiting = approved_grant(grantee="lpe")
    db.session.commit()
    runner = app.test_cli_runner()
    agreed = runner.invoke(args=["audit", "reconcile"])
    assert agreed.exit_code == 0, agreed.output
    assert "agrees with the audit trail: 3 grants" in agreed.output
    login("dpo")
    assert 'id="register-ok"' in client.get("/audit/verify").get_data(as_text=True)
    assert api("dpo").get("/api/v1/audit/verify").get_json()["register"] == {
        "ok": True, "grants": 3, "differences": []}

    waiting.removed_at = waiting.approved_at + timedelta(days=1)
    db.session.get(Grant, ended.id).status = "active"
    kept.review_due = kept.review_due + timedelta(days=365)
    db.session.commit()
    found = {(m.grant_id, m.field) for m in reconcile_grants(db.session).mismatches}
    assert found == {(waiting.id, "removed_at"), (ended.id, "status"),
                     (kept.id, "review_due")}
    refused = runner.invoke(args=["audit", "reconcile"])
    assert refused.exit_code == 1
    assert "3 differences between the register and the audit trail" in refused.output
    assert f"grant {ended.id}, status: the register holds 'active', the audit trail last " \
           f"recorded 'revoked'" in refused.output
    page = client.get("/audit/verify").get_data(as_text=True)
    assert 'id="register-differs"' in page and "3 forskelle mellem registret" in page
    assert f"object_id={waiting.id}" in page and "removed_at er " in page
    register = api("dpo").get("/api/v1/audit/verify").get_json()["register"]
    assert register["ok"] is False and len(register["differences"]) == 3
