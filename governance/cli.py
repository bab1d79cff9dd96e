"""The command line: flask --app wsgi seed | policy | token | user | audit."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .config import PROJECT_ROOT
from .domain.seed import read_seed
from .domain.source import SourceError
from .extensions import db
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
        report = seeding.seed_register(db.session, actor, seed_path, PROJECT_ROOT)
        versions = policies.load_into_register(db.session, actor,
                                               _path(policy_path, "POLICY_PATH"), PROJECT_ROOT)
        db.session.commit()
    except (SourceError, GovernanceError) as error:
        db.session.rollback()
        _fail(f"{error}\nNothing was written.")
    click.echo(f"Seed loaded from {seed_path}: {len(report.created)} created, "
               f"{len(report.updated)} updated, {len(report.passwords_set)} demo passwords "
               f"set, {len(versions)} policy versions recorded.")
    demo = read_seed(seed_path).demo_logins
    if demo:
        click.echo("Demo logins (username / password):")
        for username, password in demo.items():
            click.echo(f"  {username:8} {password}")


policy_cli = AppGroup("policy", help="Check and load the policy files.")


@policy_cli.command("check")
@click.argument("path", required=False)
def policy_check(path: str | None) -> None:
    """Validate the policy files against the register (or, before seeding, the seed)."""
    policy_path = _path(path, "POLICY_PATH")
    try:
        register = policies.register_for_check(db.session, Path(current_app.config["SEED_PATH"]))
        principles, loaded = policies.check_files(policy_path, register, PROJECT_ROOT)
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
        versions = policies.load_into_register(db.session, Actor.system(),
                                               _path(path, "POLICY_PATH"), PROJECT_ROOT)
        db.session.commit()
    except SourceError as error:
        db.session.rollback()
        _fail(f"{error}\nNothing was written.")
    click.echo(f"{len(versions)} new policy versions recorded.")


token_cli = AppGroup("token", help="API tokens.")


@token_cli.command("create")
@click.argument("username")
def token_create(username: str) -> None:
    """Print a new API token for USERNAME, once; only its hash is stored."""
    try:
        token = auth.create_token(db.session, Actor.system(), username)
        db.session.commit()
    except GovernanceError as error:
        db.session.rollback()
        _fail(str(error.message))
    click.echo(token)


user_cli = AppGroup("user", help="Local accounts.")


@user_cli.command("set-password")
@click.argument("username")
def user_set_password(username: str) -> None:
    """Set a local password for USERNAME, read from standard input."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        auth.set_password(db.session, Actor.system(), username, password)
        db.session.commit()
    except GovernanceError as error:
        db.session.rollback()
        _fail(str(error.message))
    click.echo(f"Password set for {username}.")


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first broken entry."""
    report = audit.verify_chain(db.session)
    if not report.ok:
        _fail(f"audit chain broken at entry {report.broken_id}: {report.reason} "
              f"({report.entries} entries verified before it)")
    click.echo(f"Audit chain OK: {report.entries} entries verified.")


notify_cli = AppGroup("notify", help="E-mail notifications.")


@notify_cli.command("send")
def notify_send() -> None:
    """Send every queued e-mail once (SMTP in production, the console in development)."""
    from .mailer import send_outbox
    report = send_outbox(db.session)
    click.echo(f"{report.sent} sent, {report.failed} failed (will be retried).")
    if report.failed:
        sys.exit(1)


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed_command)
    for group in (policy_cli, token_cli, user_cli, audit_cli, notify_cli):
        app.cli.add_command(group)
