"""The command line for exports: flask --app wsgi export evidence OUT.zip."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .extensions import db
from .services import evidence

export_cli = AppGroup("export", help="Exports for the DPO and auditors.")


@export_cli.command("evidence")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def export_evidence(out: Path) -> None:
    """Write the evidence pack to OUT (a zip): policies in force, register, reviews, audit
    trail, its verification, and a manifest of SHA-256 digests. Exits 1 if the audit chain
    does not verify (the pack is still written: it is the evidence of that)."""
    try:
        pack = evidence.write_evidence_pack(db.session, out,
                                            Path(current_app.config["POLICY_PATH"]))
    except OSError as error:
        click.echo(f"Error: could not write {out}: {error.strerror or error}", err=True)
        sys.exit(1)
    finally:
        db.session.rollback()  # read only: end the snapshot
    click.echo(f"Evidence pack written to {out}: {len(pack.files)} files and manifest.json.")
    if not pack.chain.ok:
        click.echo(f"Warning: the audit chain is broken at entry {pack.chain.broken_id}: "
                   f"{pack.chain.reason}", err=True)
        sys.exit(1)
    click.echo(f"Audit chain OK: {pack.chain.entries} entries verified.")
    if pack.reconciliation.ok:
        click.echo(f"The register agrees with the audit trail: {pack.reconciliation.grants} "
                   "grants.")
    else:   # the pack holds the differences: it is the evidence of them
        click.echo(f"Warning: {len(pack.reconciliation.mismatches)} differences between the "
                   "register and what the audit trail last recorded (listed in "
                   "audit-verification.json; 'audit reconcile' names them).", err=True)
