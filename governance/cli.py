"""The command line: flask --app wsgi seed | policy | token | user | audit."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .cli_export import export_cli
from .config import PROJECT_ROOT
from .domain.seed import read_seed
from .domain.source import SourceError
from .extensions import db
from .models import AuditEntry, utcnow
from .services import audit, auth, policies, seeding
from .services.actor import Actor
from .services.errors import GovernanceError


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _path(value: str | None, config_key: str) -> Path:
    return Path(value) if value else Path(current_app.config[config_key])


@click.command("seed")
@click.argument("path", required=False)
@click.option("--policies", "policy_path", help="Policy folder (default: policies/).")
def seed_command(path: str | None, policy_path: str | None) -> None:
    """Load seed YAML and the policies; all or nothing, and idempotent."""
    seed_path = _path(path, "SEED_PATH")
    actor = Actor.system()
    try:
        audit.lock_chain(db.session)
        report = seeding.seed_register(
            db.session, actor, seed_path, PROJECT_ROOT,
            demo_logins=current_app.config["APP_ENV"] != "production")
        versions = policies.load_into_register(db.session, actor,
                                               _path(policy_path, "POLICY_PATH"), PROJECT_ROOT)
        db.session.commit()
    except (SourceError, GovernanceError) as error:
        db.session.rollback()
        _fail(f"{error}\nNothing was written.")
    click.echo(f"Seed loaded from {seed_path}: {len(report.created)} created, "
               f"{len(report.updated)} updated, {len(report.passwords_set)} demo passwords "
               f"set, {len(versions)} policy versions recorded.")
    for username, ended in report.marked_left.items():
        click.echo(f"{username} is marked as left: {ended} "
                   f"{'access' if ended == 1 else 'accesses'} ended (what was created in a "
                   "system is now a removal task for its user administrator).")
    if report.kept_from_register:
        kept = "; ".join(f"{what} ({', '.join(fields)})"
                         for what, fields in report.kept_from_register.items())
        click.echo(f"Kept as the register has them, changed since the seed last wrote them "
                   f"(the seed files do not change these values): {kept}. Change a value in "
                   "the seed file to have the seed write it.")
    for username in report.kept_leavers:
        click.echo(f"{username} has left and stays so; a returning employee gets a new "
                   "account.")
    for note in policies.interval_notes(db.session, versions):
        click.echo(note)
    if versions:
        _say_what_is_no_longer_allowed()
    if report.not_in_seed:
        shown = ", ".join(report.not_in_seed[:20]) + (
            f" and {len(report.not_in_seed) - 20} more" if len(report.not_in_seed) > 20 else "")
        click.echo(f"{len(report.not_in_seed)} active "
                   f"{'employee is' if len(report.not_in_seed) == 1 else 'employees are'} in "
                   f"the register but not in the seed, and keep their access: {shown}. "
                   "Someone who has left is marked so with 'status: left' in the seed or "
                   "through the HR feed.")
    if report.systems_not_in_seed:
        click.echo(f"{_count(len(report.systems_not_in_seed), 'system')} in the register but "
                   f"not in the seed, kept as they are: {', '.join(report.systems_not_in_seed)}"
                   ". A system is never deleted (its access is evidence); a policy that no "
                   "longer names it grants nothing in it.")
    _print_demo_logins(read_seed(seed_path).demo_logins)


def _print_demo_logins(demo: dict[str, str]) -> None:
    """The seed's demo logins that still work: not those who have left, nor those whose
    password was changed since the seed set it."""
    if not demo:
        return
    works, gone = seeding.working_demo_logins(db.session, demo)
    not_shown = [f"{username} ({'has left' if why == 'left' else 'password changed since'})"
                 for username, why in gone]
    if works:
        click.echo("Demo logins (username / password):")
        for username, password in works.items():
            click.echo(f"  {username:8} {password}")
    if not_shown:
        click.echo(f"Demo logins of the seed that no longer work: {', '.join(not_shown)}.")


policy_cli = AppGroup("policy", help="Check and load the policy files.")


@policy_cli.command("check")
@click.argument("path", required=False)
@click.option("--seed", "seed_path", help="Check against this seed folder rather than the "
                                          "register in the database.")
def policy_check(path: str | None, seed_path: str | None) -> None:
    """Validate the policy files against the register (or, before seeding, the seed)."""
    policy_path = _path(path, "POLICY_PATH")
    try:
        register, which = policies.register_for_check(
            db.session, _path(seed_path, "SEED_PATH"), prefer_seed=seed_path is not None)
        click.echo(f"Checking {policy_path} against {which}.")
        principles, loaded = policies.check_files(policy_path, register, PROJECT_ROOT,
                                                  active_approvers=True)
    except SourceError as error:
        _fail(str(error))
    if principles:
        click.echo(f"{principles[0]}: {len(principles[1])} principles OK")
    for policy in loaded:
        click.echo(f"{policy.source_file}: policy '{policy.id}' OK ({len(policy.systems)} "
                   f"systems, approvers {', '.join(policy.approver_usernames)})")


@policy_cli.command("load")
@click.argument("path", required=False)
def policy_load(path: str | None) -> None:
    """Record the policy files as the versions in force (audited); unchanged files are skipped."""
    try:
        audit.lock_chain(db.session)
        versions = policies.load_into_register(db.session, Actor.system(),
                                               _path(path, "POLICY_PATH"), PROJECT_ROOT)
        db.session.commit()
    except SourceError as error:
        db.session.rollback()
        _fail(f"{error}\nNothing was written.")
    click.echo(f"{len(versions)} new policy versions recorded.")
    for name in policies.came_back(db.session, versions):
        click.echo(f"Policy '{name}' had been retired; its file puts it back in force.")
    for note in policies.interval_notes(db.session, versions):
        click.echo(note)
    _say_what_is_no_longer_allowed()
    folder = _path(path, "POLICY_PATH")
    for name in policies.not_in_folder(db.session, folder):
        click.echo(f"Policy '{name}' is in force but no file in {folder} holds it; it stays "
                   "in force. To take it out of force: flask --app wsgi policy retire "
                   f"{name}")


@policy_cli.command("retire")
@click.argument("name")
def policy_retire(name: str) -> None:
    """Take the purpose policy NAME out of force (audited); refused while requests or
    access live under it. Loading a file with its id brings it back as a new version."""
    _committed(policies.retire, name, _path(None, "POLICY_PATH"))
    click.echo(f"Policy '{name}' is no longer in force; its versions stay in the history.")


def _say_what_is_no_longer_allowed() -> None:
    """After new policy versions: the access they no longer allow, which is not created,
    not kept at review, and is listed for the DPO."""
    from .services.evaluation import not_allowed_now
    counts = not_allowed_now(db.session)
    if counts:
        click.echo(f"The policies in force do not allow {counts['active']} active and "
                   f"{counts['approved']} approved access(es) any more: they cannot be kept "
                   "at review or created in their system, and an approver revokes them. The "
                   "DPO finds them under Dashboard → 'Judge every access held by the rules in "
                   "force now' (/dashboard/findings).")


def _committed(use_case, *args):
    """Run a use case as the operator and commit; a refusal rolls back and exits 1 with
    its message."""
    try:
        audit.lock_chain(db.session)
        result = use_case(db.session, Actor.system(), *args)
        db.session.commit()
    except GovernanceError as error:
        db.session.rollback()
        _fail(str(error.message))
    return result


token_cli = AppGroup("token", help="API tokens.")


@token_cli.command("list")
@click.argument("username")
def token_list(username: str) -> None:
    """List USERNAME's API tokens: number, made, expires, last used (to the minute), and
    whether it works (not the tokens)."""
    try:
        rows = auth.tokens_of(db.session, username)
    except GovernanceError as error:
        _fail(str(error.message))
    if not rows:
        click.echo(f"{username} has no API tokens.")
    for row in rows:
        used = row.last_used_at.isoformat(timespec="minutes") if row.last_used_at else "never"
        state = (f"revoked {row.revoked_at.isoformat(timespec='minutes')}" if row.revoked_at
                 else "refused: its owner has left" if not row.employee.active
                 else "expired" if row.expires_at <= utcnow() else "live")
        click.echo(f"{row.id}\tmade {row.created_at.isoformat(timespec='minutes')}\t"
                   f"expires {row.expires_at.isoformat(timespec='minutes')}\t"
                   f"last used {used}\t{state}")


@token_cli.command("revoke")
@click.argument("username")
@click.option("--id", "token_id", type=int, help="Only the token with this number "
                                                 "(from 'token list').")
def token_revoke(username: str, token_id: int | None) -> None:
    """Revoke USERNAME's live API tokens (or one of them); an integration using one gets
    401 from then on."""
    revoked = _committed(auth.revoke_tokens, username, token_id)
    click.echo(f"Revoked {len(revoked)} API token(s) of {username}"
               + (f": {', '.join(map(str, revoked))}." if revoked else "; none was live."))


@token_cli.command("create")
@click.argument("username")
@click.option("--days", type=int, default=auth.TOKEN_DAYS, show_default=True,
              help=f"How many days the token works (at most {auth.MAX_TOKEN_DAYS}); "
                   "'reviews remind' tells its owner and the administrators two weeks before.")
def token_create(username: str, days: int) -> None:
    """Print a new API token for USERNAME, once; only its hash is stored."""
    token = _committed(auth.create_token, username, days)
    click.echo(token)


user_cli = AppGroup("user", help="Local accounts.")


@user_cli.command("set-password")
@click.argument("username")
def user_set_password(username: str) -> None:
    """Set a local password for USERNAME, read from standard input."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        try:
            password = sys.stdin.readline().rstrip("\r\n")
        except UnicodeDecodeError:
            _fail("The password read from standard input is not UTF-8 text.")
    employee = _committed(auth.set_password, username, password)
    click.echo(f"Password set for {employee.username}.")


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("reconcile")
def audit_reconcile() -> None:
    """Check the register against the audit trail: each grant must be as its entries last
    recorded it; exit 1 naming each that is not (changed around the app)."""
    from .services.reconcile import reconcile_grants
    result = reconcile_grants(db.session)
    if result.ok:
        click.echo(f"The register agrees with the audit trail: {result.grants} grants, each "
                   "as its entries last recorded it.")
        return
    for mismatch in result.mismatches[:50]:
        click.echo(mismatch.describe(), err=True)
    more = len(result.mismatches) - 50
    _fail(f"{_count(len(result.mismatches), 'difference')} between the register and the "
          f"audit trail" + (f" ({more} more not shown)" if more > 0 else "") + ": changed "
          "around the app. Restore the rows from a backup, or find out who changed them.")


@audit_cli.command("verify")
@click.option("--anchor", metavar="NUMBER:HASH",
              help="An entry and its hash as an earlier verification printed them: it must "
                   "still be in the chain, unchanged.")
def audit_verify(anchor: str | None) -> None:
    """Walk the hash chain; exit 1 naming the first broken entry."""
    try:
        noted = audit.parse_anchor(anchor)
    except GovernanceError as error:
        _fail(str(error.message))
    report = audit.verify_chain(db.session, anchor=noted)
    if not report.ok and (report.kind or "").startswith("anchor_"):
        _fail(f"audit chain does not hold the anchor: {report.reason} (its {report.entries} "
              "entries link up among themselves: the chain was rewritten or cut after the "
              "anchor was noted)")
    if not report.ok:
        _fail(f"audit chain broken at entry {report.broken_id}: {report.reason} "
              f"({report.entries} entries verified before it)")
    click.echo(f"Audit chain OK: {report.entries} entries verified"
               + (f", entry {noted[0]} as noted earlier" if noted else "") + ".")
    if report.last_hash:
        click.echo(f"Last entry: {report.entries}:{report.last_hash}\n"
                   "Keep that line outside the register (a signed e-mail, the DPO's own "
                   "records); 'audit verify --anchor' with it later shows that nothing up to "
                   "that entry was rewritten or cut away, even by someone able to write to "
                   "the database.")


notify_cli = AppGroup("notify", help="E-mail notifications.")


@notify_cli.command("send")
def notify_send() -> None:
    """Send every queued e-mail once (SMTP in production, the console in development)."""
    from .mailer import send_outbox
    report = send_outbox(db.session)
    if not (report.failed or report.given_up):
        click.echo(f"{report.sent} sent.")
        return
    parts = [f"{report.sent} sent"]
    if report.failed:
        parts.append(f"{report.failed} failed; they are tried again at the next 'notify send'")
    if report.given_up:
        parts.append(f"{report.given_up} refused for good by the mail server and not tried "
                     "again (they stay in the outbox with the error)")
    click.echo(f"{', '.join(parts)}. Last error: {report.last_error}")
    sys.exit(1)


reviews_cli = AppGroup("reviews", help="Yearly reviews (principle 5).")
AS_OF = click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
                     help="Act as if today were this date (default: today).")


def _as_of(value: str | None):
    from .services.clock import parse_as_of
    if value is not None and not value.strip():
        _fail("--as-of is empty: give a date as YYYY-MM-DD, or leave the option out for "
              "today.")
    try:
        return parse_as_of(value)
    except GovernanceError as error:
        _fail(str(error.message))


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@reviews_cli.command("remind")
@AS_OF
def reviews_remind(as_of: str | None) -> None:
    """Queue review reminders (30, 14, 3 days before) and escalations (7 days after), and
    ask grantees to acknowledge the lookup principles again before the year lapses;
    idempotent."""
    from .services import clock, reviews
    day = _as_of(as_of)
    if day != clock.today() and current_app.config["APP_ENV"] == "production":
        # The mails are real and go out now, each only once: a day moved on a live register
        # would send next month's reminders today and none when they are due (and end
        # access as expired, where the policy says so).
        _fail(f"--as-of {day.isoformat()} is not today: in production reminders are sent, "
              "and access expired, for real. Try other days on a copy of the register.")
    audit.lock_chain(db.session)   # one run at a time, after the app's writes in flight
    report = reviews.remind(db.session, Actor.system(), day)
    db.session.commit()
    click.echo(f"{_count(report.reminders, 'reminder')} and "
               f"{_count(report.escalations, 'escalation')} queued"
               + (f"; {report.acknowledgement_reminders} "
                  f"{'employee' if report.acknowledgement_reminders == 1 else 'employees'} "
                  "asked to acknowledge the lookup principles again"
                  if report.acknowledgement_reminders else "")
               + (f"; {len(report.expired)} grants expired (not re-assessed)"
                  if report.expired else "")
               + (f"; {_count(len(report.unacknowledged_reminders), 'grantee')} of access "
                  "created in a system reminded to acknowledge the lookup principles "
                  f"({len(report.unacknowledged_escalations)} told to the DPO)"
                  if report.unacknowledged_reminders or report.unacknowledged_escalations
                  else "")
               + (f"; removal of {len(report.removal_reminders)} ended "
                  f"{'access' if len(report.removal_reminders) == 1 else 'accesses'} chased "
                  f"({len(report.removal_escalations)} told to the DPO)"
                  if report.removal_reminders or report.removal_escalations else "")
               + (f"; {_count(len(report.token_reminders), 'API token')} about to expire "
                  "(owners and administrators told)" if report.token_reminders else "")
               + (". Send them with 'notify send'." if report.queued else "; nothing to send."))


@reviews_cli.command("overdue")
@AS_OF
def reviews_overdue(as_of: str | None) -> None:
    """List active grants whose review is overdue (REVIEW_OVERDUE)."""
    from .services import clock, reviews
    day = _as_of(as_of)
    rows = reviews.overdue(db.session, day)
    for row in rows:
        grant, days = row.grant, row.days(day)
        click.echo(f"{grant.id:>6}  {grant.grantee.username:<8} {grant.system.code:<10} "
                   f"{grant.access_level:<5} {grant.scope:<7} due {row.due} "
                   f"({days} {'day' if days == 1 else 'days'} overdue)")
    click.echo(f"{len(rows)} overdue {'review' if len(rows) == 1 else 'reviews'} on "
               f"{day.isoformat()}"
               + (" (the register as it stood at the end of that day)."
                  if day < clock.today() else "."))


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False))
def backup_command(out: str) -> None:
    """Write a backup of the database to OUT (SQLite online backup, or pg_dump -Fc); an
    existing OUT is not overwritten (an earlier backup is evidence too)."""
    if Path(out).exists():
        _fail(f"{out} exists: a backup does not overwrite an earlier one. Name a new file "
              "(the date in its name, say), or move the old one first.")
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from .backup import BackupError, backup
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    sqlite = url.startswith("sqlite")
    # A PostgreSQL dump cannot be read without restoring it: the chain is walked just
    # before the dump, which holds those entries and any written since.
    before = None if sqlite else audit.verify_chain(db.session)
    db.session.remove()
    try:
        path = backup(url, Path(out))
    except BackupError as error:
        _fail(str(error))
    if sqlite:   # the backup file itself, as it would be restored, opened read-only
        import sqlite3
        location = f"file:{path.resolve()}?mode=ro"
        engine = create_engine("sqlite://",
                               creator=lambda: sqlite3.connect(location, uri=True))
        try:
            with Session(engine) as copy:
                report = audit.verify_chain(copy)
        finally:
            engine.dispose()
        what = f"audit chain in the backup {'intact' if report.ok else 'BROKEN'}"
    else:
        report = before
        what = (f"audit chain {'intact' if report.ok else 'BROKEN'} just before the dump, "
                "which holds those entries and any written since")
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes; {what}, "
               f"{report.entries} entries).")
    if not report.ok:
        _fail(f"The audit chain is broken at entry {report.broken_id}: the backup keeps it "
              "as it is; run 'audit verify' and tell the DPO.")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True,
              help="Overwrite a database that already holds a register (its audit entries "
                   "that the backup lacks are lost).")
def restore_command(source: str, replace: bool) -> None:
    """Restore the database from a backup made by 'backup' (into a fresh database)."""
    from .backup import BackupError, backup_entries, restore
    held = _audit_entries()
    if held and not replace:
        kept = backup_entries(Path(source))
        lost = (f"; the backup holds {kept}, so {held - kept} would be lost"
                if kept is not None and kept < held else
                f"; the backup holds {kept}" if kept is not None else "")
        _fail(f"The database already holds a register with {held} audit entries{lost}. "
              "Restore into a fresh database (another DATABASE_URL), or pass --replace to "
              "overwrite this one.")
    db.session.remove()
    db.engine.dispose()
    try:
        restore(current_app.config["SQLALCHEMY_DATABASE_URI"], Path(source))
    except BackupError as error:
        _fail(str(error))
    report = audit.verify_chain(db.session)
    click.echo(f"Restored from {source}; audit chain "
               f"{'intact' if report.ok else 'BROKEN at entry ' + str(report.broken_id)}, "
               f"{report.entries} entries.")
    if not report.ok:
        sys.exit(1)


def _audit_entries() -> int:
    """How many audit entries the database holds (0 before its first migration)."""
    try:
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):  # no tables yet
        db.session.rollback()
        return 0


postgres_cli = AppGroup("postgres", help="PostgreSQL administration.")


def app_role_statements(role: str) -> list[str]:
    """What the application's own role may do: everything it needs, and on the audit
    trail only reading and appending (UPDATE, DELETE and TRUNCATE revoked)."""
    quoted = '"' + role.replace('"', '""') + '"'
    return [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries FROM {quoted}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON alembic_version FROM {quoted}",
    ]


@postgres_cli.command("grant-app-role")
@click.argument("role")
@click.option("--print-only", is_flag=True, help="Print the statements instead of running them.")
def grant_app_role(role: str, print_only: bool) -> None:
    """Give ROLE (the role the app connects as) its privileges; the audit trail append-only."""
    statements = app_role_statements(role)
    if print_only:
        click.echo(";\n".join(statements) + ";")
        return
    if db.engine.dialect.name != "postgresql":
        _fail("grant-app-role is for PostgreSQL; SQLite has no roles (the triggers still "
              "make the audit trail append-only)")
    with db.engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    click.echo(f"Role {role} may read and write the register; on audit_entries only SELECT "
               f"and INSERT.")


def _needs_register(command: click.Command) -> None:
    """The command stops with what to do, not a traceback, on a database that has not been
    migrated yet (every table missing)."""
    run = command.callback
    if getattr(run, "needs_register", False):
        return  # wrapped by an earlier create_app()

    @functools.wraps(run)
    def checked(*args, **kwargs):
        if not sa.inspect(db.engine).has_table("audit_head"):
            _fail("The database has no register yet: run 'flask --app wsgi db upgrade' first "
                  "('make run' does it).")
        return run(*args, **kwargs)
    command.callback = with_appcontext(checked)
    command.callback.needs_register = True


def register_commands(app: Flask) -> None:
    for command in (seed_command, backup_command, policy_load, policy_retire,
                    *reviews_cli.commands.values(),
                    *token_cli.commands.values(), *user_cli.commands.values(),
                    *audit_cli.commands.values(), *notify_cli.commands.values(),
                    *export_cli.commands.values()):
        _needs_register(command)
    app.cli.add_command(seed_command)
    app.cli.add_command(reviews_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(postgres_cli)
    for group in (policy_cli, token_cli, user_cli, audit_cli, notify_cli, export_cli):
        app.cli.add_command(group)
