"""On PostgreSQL the application's role cannot change or delete audit entries at all."""
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import ProgrammingError

from governance.config import database_url
from governance.extensions import db
from governance.services import audit


def test_app_role_can_append_but_not_change_the_audit_trail(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("roles are a PostgreSQL matter; SQLite relies on the triggers")
    role = "governance_app_test"
    with db.engine.begin() as conn:
        exists = conn.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'").scalar()
        if not exists:
            conn.exec_driver_sql(f"CREATE ROLE \"{role}\" LOGIN")
    result = app.test_cli_runner().invoke(args=["postgres", "grant-app-role", role])
    assert result.exit_code == 0, result.output
    url = db.engine.url.set(username=role, password=None)
    engine = sa.create_engine(database_url(url.render_as_string(hide_password=False)))
    try:
        from sqlalchemy.orm import Session
        with Session(engine) as session:
            audit.record(session, actor="ahn", action="test.append", object_type="t",
                         object_id=1, summary="appended by the app role")
            session.commit()
        for statement in ("UPDATE audit_entries SET summary = 'x'",
                          "DELETE FROM audit_entries", "TRUNCATE audit_entries"):
            with engine.connect() as conn:
                with pytest.raises(ProgrammingError, match="permission denied"):
                    conn.exec_driver_sql(statement)
    finally:
        engine.dispose()
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
            conn.exec_driver_sql(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM "{role}"')
            conn.exec_driver_sql(f'REVOKE ALL ON SCHEMA public FROM "{role}"')


def test_statements_can_be_printed(app):
    result = app.test_cli_runner().invoke(args=["postgres", "grant-app-role", "web",
                                                "--print-only"])
    assert 'REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries FROM "web"' in result.output
