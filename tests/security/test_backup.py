"""Backup and restore round trip: a fresh database, migrations at head, same rows, chain OK."""
import sqlalchemy as sa

from governance.extensions import db
from governance.models import Base
from tests.conftest import make_app

from ..services.workflow import active_grant


def migration_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from governance.config import PROJECT_ROOT
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def row_counts(engine) -> dict:
    with engine.connect() as conn:
        return {name: conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar()
                for name in Base.metadata.tables}


def test_round_trip(app, tmp_path, templates):
    from governance.services import clock
    active_grant(clock.today())
    before = row_counts(db.engine)
    out = tmp_path / "backup.dump"
    result = app.test_cli_runner().invoke(args=["backup", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
    # What the backup holds, not what the live database holds after it.
    said = (f"audit chain in the backup intact, {before['audit_entries']} entries"
            if db.engine.dialect.name == "sqlite" else
            f"audit chain intact just before the dump, which holds those entries and any "
            f"written since, {before['audit_entries']} entries")
    assert said in result.output
    # Checked read-only: the backup is left exactly as written (no -wal or -shm beside it).
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("backup")) == [
        "backup.dump"]

    # A fresh, empty database to restore into.
    if db.engine.dialect.name == "sqlite":
        target_url = f"sqlite:///{tmp_path / 'restored.sqlite'}"
        pg_name = None
    else:
        server = templates[1]
        pg_name = f"{server.base_name}_restored"
        target_url = server.create(pg_name)
    target = make_app(target_url)
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["restore", str(out)])
        assert result.exit_code == 0, result.output
        assert "audit chain intact" in result.output
        from governance.extensions import db as target_db
        with target_db.engine.connect() as conn:
            head = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert head == migration_head()
        assert row_counts(target_db.engine) == before
        target_db.session.remove()
        target_db.engine.dispose()
    if pg_name:
        templates[1].drop(pg_name)


def test_restore_refuses_a_file_that_is_not_a_backup(app, tmp_path):
    junk = tmp_path / "junk.dump"
    junk.write_text("not a backup")
    result = app.test_cli_runner().invoke(args=["restore", str(junk)])
    assert result.exit_code == 1


def test_restore_does_not_overwrite_a_register_unless_told(app, tmp_path):
    """Restoring over a live register loses the audit entries written since the backup:
    refused, saying how many, unless --replace says it is meant."""
    from governance.models import AuditEntry
    from governance.services import clock
    runner = app.test_cli_runner()
    out = tmp_path / "backup.dump"
    assert runner.invoke(args=["backup", str(out)]).exit_code == 0
    active_grant(clock.today())          # evidence written after the backup
    held = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    refused = runner.invoke(args=["restore", str(out)])
    assert refused.exit_code == 1
    assert f"already holds a register with {held} audit entries" in refused.output
    assert "--replace" in refused.output
    if db.engine.dialect.name == "sqlite":
        assert "would be lost" in refused.output
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == held
    replaced = runner.invoke(args=["restore", "--replace", str(out)])
    assert replaced.exit_code == 0, replaced.output
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) < held


def test_a_backup_of_a_broken_chain_says_so_and_exits_1(app, tmp_path):
    """The backup is kept as it is (evidence), but the command does not pass as if all were
    well."""
    from governance.models import AuditEntry
    from governance.services import clock
    active_grant(clock.today())
    from ..services.test_audit import tamper
    entry_id = db.session.scalar(sa.select(sa.func.min(AuditEntry.id)))
    db.session.commit()
    tamper(f"UPDATE audit_entries SET summary = 'changed afterwards' WHERE id = {entry_id}")
    out = tmp_path / "backup.dump"
    result = app.test_cli_runner().invoke(args=["backup", str(out)])
    assert result.exit_code == 1, result.output
    assert "BROKEN" in result.output and f"broken at entry {entry_id}" in result.output
    assert out.stat().st_size > 0


def test_a_backup_does_not_overwrite_an_earlier_one(app, tmp_path):
    out = tmp_path / "backup.dump"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(out)]).exit_code == 0
    first = out.read_bytes()
    again = runner.invoke(args=["backup", str(out)])
    assert again.exit_code == 1 and "does not overwrite an earlier one" in again.output
    assert out.read_bytes() == first


def test_a_backup_into_a_folder_that_does_not_exist_is_refused_not_made(app, tmp_path):
    """A mistyped path is said; no folders are made along it."""
    out = tmp_path / "no-such" / "folder" / "backup.dump"
    result = app.test_cli_runner().invoke(args=["backup", str(out)])
    assert result.exit_code == 1
    assert f"the folder {out.parent} does not exist" in result.output
    assert not (tmp_path / "no-such").exists()
