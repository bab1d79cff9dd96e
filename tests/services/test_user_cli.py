"""flask user set-password: reads standard input, hashes, audits, refuses bad input."""
import sqlalchemy as sa

from governance.extensions import db
from governance.models import AuditEntry, Employee
from governance.services import passwords


def test_set_password_from_stdin(app):
    result = app.test_cli_runner().invoke(args=["user", "set-password", "admin"],
                                          input="break-glass-2026\n")
    assert result.exit_code == 0, result.output
    db.session.remove()
    admin = db.session.scalar(sa.select(Employee).where(Employee.username == "admin"))
    assert passwords.verify_password(admin.password_hash, "break-glass-2026")
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.object_id, entry.actor) == ("user.password_set", "admin",
                                                            "system")


def test_set_password_refuses_short_and_unknown(app):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["user", "set-password", "admin"], input="short\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    unknown = runner.invoke(args=["user", "set-password", "nobody"], input="long-enough-1\n")
    assert unknown.exit_code == 1 and "nobody" in unknown.output
