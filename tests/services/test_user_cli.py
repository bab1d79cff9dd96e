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


def test_set_password_refuses_a_leaver_and_passwords_the_login_cannot_take(app):
    from governance.services import employees
    from governance.services.actor import Actor
    runner = app.test_cli_runner()
    for given, says in [("x" * 257 + "\n", "at most 256 characters"),
                        (" " * 9 + "\n", "only spaces"),
                        ("long-\x07enough\n", "U+0007")]:
        result = runner.invoke(args=["user", "set-password", "admin"], input=given)
        assert result.exit_code == 1 and says in result.output, result.output
    admin = Actor.of(db.session.scalar(sa.select(Employee).filter_by(username="admin")))
    employees.update_employee(db.session, admin, "mbe", {"status": "left"})
    db.session.commit()
    left = runner.invoke(args=["user", "set-password", "mbe"], input="long-enough-1\n")
    assert left.exit_code == 1 and "mbe has left" in left.output
    upper = runner.invoke(args=["user", "set-password", "ADMIN"], input="long-enough-1\n")
    assert upper.exit_code == 0 and "Password set for admin." in upper.output


def test_tokens_are_listed_and_revoked(app, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["token", "create", "KFI"]).output.strip()
    second = runner.invoke(args=["token", "create", "kfi"]).output.strip()
    for token in (first, second):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                          ).status_code == 200
    listed = runner.invoke(args=["token", "list", "kfi"]).output.splitlines()
    assert len(listed) == 2 and all("live" in line for line in listed)
    assert first not in "".join(listed)                  # the tokens themselves are not kept
    number = listed[0].split("\t")[0]
    one = runner.invoke(args=["token", "revoke", "kfi", "--id", number])
    assert one.exit_code == 0 and f": {number}." in one.output
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"}
                      ).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}
                      ).status_code == 200
    rest = runner.invoke(args=["token", "revoke", "kfi"])
    assert rest.exit_code == 0 and "Revoked 1 API token(s)" in rest.output
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}
                      ).status_code == 401
    again = runner.invoke(args=["token", "revoke", "kfi", "--id", number])
    assert again.exit_code == 1 and "no live API token" in again.output
    revoked = db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.action == "token.revoke")).all()
    assert len(revoked) == 2


def test_commands_on_a_database_without_the_register_say_what_to_do(tmp_path):
    from tests.conftest import make_app
    bare = make_app(f"sqlite:///{tmp_path / 'new.sqlite'}")
    runner = bare.test_cli_runner()
    for args in (["audit", "verify"], ["seed"], ["reviews", "remind"], ["token", "create", "kfi"],
                 ["user", "set-password", "kfi"]):
        result = runner.invoke(args=args, input="long-enough-1\n")
        assert result.exit_code == 1, (args, result.output)
        assert "run 'flask --app wsgi db upgrade' first" in result.output, result.output
    checked = runner.invoke(args=["policy", "check"])
    assert checked.exit_code == 0 and "the seed in" in checked.output
