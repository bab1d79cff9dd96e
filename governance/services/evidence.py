"""The evidence pack: policies in force, register, reviews and audit trail with its
verification, and a manifest of SHA-256 digests, in one zip (GDPR art. 5(2))."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable

from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session, scoped_session

from ..models import PolicyVersion, utcnow
from . import clock, reports
from .policies import RETIRED
from .tabular import local
from .audit import HASH_RECIPE, ChainReport, chain_lines, verify_chain
from .reconcile import Reconciliation, reconcile_grants
from .tabular import FORMULA_STARTS, csv_chunks


@dataclass
class EvidencePack:
    path: Path
    chain: ChainReport
    files: list[dict] = field(default_factory=list)
    reconciliation: Reconciliation | None = None


def _snapshot(session: Session) -> None:
    """On PostgreSQL, read everything from one snapshot, so the files agree with each other."""
    current = session() if isinstance(session, scoped_session) else session
    if current.get_bind().dialect.name == "postgresql" and not current.in_transaction():
        current.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def policy_files(policy_path: Path) -> list[Path]:
    if policy_path.is_file():
        return [policy_path]
    return sorted(policy_path.glob("*.yaml")) if policy_path.is_dir() else []


def latest_policy_versions(session: Session) -> list[PolicyVersion]:
    """The versions in force: the latest of each name, unless it took the policy out."""
    latest = select(func.max(PolicyVersion.id)).group_by(PolicyVersion.name)
    return list(session.scalars(select(PolicyVersion).where(
        PolicyVersion.id.in_(latest), PolicyVersion.sha256 != RETIRED)
        .order_by(PolicyVersion.name)))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_evidence_pack(session: Session, out: Path, policy_path: Path) -> EvidencePack:
    """Write the pack to a temporary file beside OUT and move it into place when complete."""
    _snapshot(session)
    out = Path(out)
    partial = out.with_name(f".{out.name}.partial")
    pack = EvidencePack(out, ChainReport(False, 0))
    stamp = local(utcnow()).timetuple()[:6]  # zip entries keep local time
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            def add(name: str, chunks: Iterable[bytes]) -> None:
                digest, size = hashlib.sha256(), 0
                entry = zipfile.ZipInfo(name, date_time=stamp)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(entry, "w") as target:
                    for chunk in chunks:
                        digest.update(chunk)
                        size += len(chunk)
                        target.write(chunk)
                pack.files.append({"path": name, "sha256": digest.hexdigest(), "size": size})

            in_force, not_in_force = _add_policies(session, add, Path(policy_path))
            history = _add_policy_history(session, add)
            # Verified first; audit.csv then stops at the last verified entry, so both
            # describe the same chain even if entries are appended meanwhile.
            pack.chain = verify_chain(session)
            verified_at = utcnow()
            add("register.csv", csv_chunks(reports.register_table(session)))
            add("requests.csv", csv_chunks(reports.request_log_table(session)))
            add("reviews.csv", csv_chunks(reports.review_log_table(session)))
            # What an inspector asks next: the yearly review reports (this year and the
            # last), and what every access held fails by the rules in force today.
            today = clock.today()
            for year in (today.year - 1, today.year):
                rows = reports.review_report(session, year, today)
                with force_locale("da"):   # the report as the municipality reads it
                    add(f"review-report-{year}.csv",
                        csv_chunks(reports.review_report_table(rows, year, "da")))
            add("findings.csv", csv_chunks(reports.findings_table(session, today)))
            add("employees.csv", csv_chunks(reports.employees_table(session)))
            add("acknowledgements.csv", csv_chunks(reports.acknowledgements_table(session)))
            up_to = pack.chain.entries if pack.chain.ok else None
            add("audit.csv", csv_chunks(reports.audit_table(session, up_to=up_to)))
            add("audit.jsonl", chain_lines(session.connection(), up_to))
            pack.reconciliation = reconcile_grants(session)
            add("audit-verification.json", [_json({
                **pack.chain.as_dict(), "verified_at": verified_at.isoformat(),
                "register_reconciliation": {
                    "meaning": "each grant in the register is as its audit entries last "
                               "recorded it (status, created in and removed from the "
                               "system, activation, review date, how it ended)",
                    "ok": pack.reconciliation.ok, "grants": pack.reconciliation.grants,
                    "differences": [m.describe() for m in pack.reconciliation.mismatches]}})])
            archive.writestr(zipfile.ZipInfo("manifest.json", date_time=stamp), _json({
                "generated_at": utcnow().isoformat(),
                "policies_in_force": in_force,
                "policy_files_not_in_force": {
                    "files": not_in_force,
                    "meaning": "YAML files in the policy folder when the pack was made that "
                               "are not the source of any version in force (changed and not "
                               "loaded, or never loaded); the versions in force are "
                               "policies/<name>.json"},
                "policy_versions": {
                    "in_force_at_a_moment": "the latest version of each name loaded before "
                                            "it (loaded_at)",
                    "versions": history},
                "csv": {"encoding": "UTF-8 with byte order mark", "delimiter": ",",
                        "quoting": "every field in double quotes",
                        "dates": "ISO 8601; times in Europe/Copenhagen with offset, "
                                 "audit times in UTC exactly as hashed",
                        "formula_guard": "text cells starting with "
                                         f"{' '.join(repr(c) for c in FORMULA_STARTS)} are "
                                         "prefixed with a single quote (')"},
                "audit_chain": {
                    "audit.jsonl": "one JSON object an entry, in chain order, every field "
                                   "exactly as hashed (no formula guard): recompute each "
                                   "hash from it",
                    "audit.csv": "the same entries for a spreadsheet, with the formula "
                                 "guard above",
                    "hash": HASH_RECIPE},
                "files": pack.files}), compress_type=zipfile.ZIP_DEFLATED)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return pack


# A pack for download is built beside the others in this folder; one left by a worker that
# was killed while building it is swept up this long after.
STALE_PACK_SECONDS = 3600


def pack_for_download(session: Session, folder: Path,
                      policy_path: Path) -> tuple[BinaryIO, int]:
    """The evidence pack as an open file (and its size) for sending. Its name is removed
    before it is returned, so nothing stays behind however the download ends."""
    _sweep_stale_packs(folder)
    handle, name = tempfile.mkstemp(prefix=".evidence-", suffix=".zip", dir=folder)
    os.close(handle)
    path = Path(name)
    try:
        write_evidence_pack(session, path, policy_path)
        return path.open("rb"), path.stat().st_size
    finally:
        path.unlink(missing_ok=True)


def _sweep_stale_packs(folder: Path) -> None:
    cutoff = time.time() - STALE_PACK_SECONDS
    for left in [*folder.glob(".evidence-*.zip"), *folder.glob("..evidence-*.zip.partial")]:
        with contextlib.suppress(FileNotFoundError):  # another request swept it first
            if left.stat().st_mtime < cutoff:
                left.unlink()


def _add_policies(session: Session, add, policy_path: Path) -> tuple[list[dict], list[str]]:
    """Each policy's version in force as stored, and the YAML files in the folder now: under
    policies/ those that are the source of a version in force, under
    policies/not-in-force/ the others (edited and not loaded, say), so that no file in
    the pack reads as in force when it is not."""
    in_folder = {file.name: file.read_bytes() for file in policy_files(policy_path)}
    in_force, sources = [], set()
    for version in latest_policy_versions(session):
        add(f"policies/{version.name}.json", [version.content.encode("utf-8")])
        folder_file = in_folder.get(Path(version.file).name)
        matches = folder_file is not None and _sha256(folder_file) == version.sha256
        if matches:
            sources.add(Path(version.file).name)
        in_force.append({
            "name": version.name, "version_id": version.id, "source_file": version.file,
            "source_sha256": version.sha256, "loaded_at": version.loaded_at.isoformat(),
            "folder_file_matches": matches})
    not_in_force = []
    for name, content in in_folder.items():
        if name in sources:
            add(f"policies/{name}", [content])
        else:
            add(f"policies/not-in-force/{name}", [content])
            not_in_force.append(f"policies/not-in-force/{name}")
    return in_force, not_in_force


def _add_policy_history(session: Session, add) -> list[dict]:
    """Every version ever loaded, superseded ones included: an access approved last year
    was judged by the version in force then (the latest of its name loaded before)."""
    history = []
    for version in session.scalars(select(PolicyVersion).order_by(PolicyVersion.id)):
        path = f"policies/versions/{version.name}-{version.id}.json"
        add(path, [version.content.encode("utf-8")])
        history.append({"name": version.name, "version_id": version.id, "file": path,
                        "source_file": version.file, "source_sha256": version.sha256,
                        "loaded_at": version.loaded_at.isoformat()})
    return history


def _json(value: dict) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")
