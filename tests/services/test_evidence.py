"""The evidence pack: every file the manifest lists is there with its digest, the audit
chain verifies, and the CSVs hold the register as it is."""
import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime

import sqlalchemy as sa

from governance.config import PROJECT_ROOT
from governance.extensions import db
from governance.models import Acknowledgement, AuditEntry, AuditHead, Grant, PolicyVersion

from .report_scenario import FORMULA_TASKS, build_journey


def csv_rows(pack: zipfile.ZipFile, name: str) -> list[dict]:
    data = pack.read(name)
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def load_a_six_month_version(tmp_path) -> None:
    """A new version of eu-oest (reviews every 6 months), loaded from a folder of its own."""
    from governance.services import policies
    from governance.services.actor import Actor
    folder = tmp_path / "policies"
    folder.mkdir()
    for path in (PROJECT_ROOT / "policies").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        if path.name == "eu-oest.yaml":
            text = text.replace("review_interval_months: 12", "review_interval_months: 6")
            assert "review_interval_months: 6" in text
        (folder / path.name).write_text(text, encoding="utf-8")
    policies.load_into_register(db.session, Actor.system(), folder)
    db.session.commit()


def test_evidence_pack_after_a_whole_journey(app, runner, tmp_path):
    journey = build_journey()
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "evidence.zip"
    result = runner.invoke(args=["export", "evidence", str(out)])
    assert result.exit_code == 0, result.output
    entries = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    assert f"Audit chain OK: {entries} entries verified." in result.output
    assert "2 differences between the register and what the audit trail" in result.output
    assert [p.name for p in out.parent.iterdir()] == ["evidence.zip"]  # no partial file left

    with zipfile.ZipFile(out) as pack:
        manifest = json.loads(pack.read("manifest.json"))
        listed = [f["path"] for f in manifest["files"]]
        assert {"register.csv", "requests.csv", "reviews.csv", "employees.csv",
                "acknowledgements.csv", "audit.csv"} <= set(listed)
        assert sorted(pack.namelist()) == sorted([*listed, "manifest.json"])
        for item in manifest["files"]:
            data = pack.read(item["path"])
            assert hashlib.sha256(data).hexdigest() == item["sha256"], item["path"]
            assert len(data) == item["size"]
        assert datetime.fromisoformat(manifest["generated_at"]).tzinfo is not None

        for name in ("eu-oest", "principles"):
            stored = db.session.scalar(sa.select(PolicyVersion.content).where(
                PolicyVersion.name == name).order_by(PolicyVersion.id.desc()).limit(1))
            assert pack.read(f"policies/{name}.json").decode("utf-8") == stored
        for path in sorted((PROJECT_ROOT / "policies").glob("*.yaml")):
            assert pack.read(f"policies/{path.name}") == path.read_bytes()
        assert all(p["folder_file_matches"] for p in manifest["policies_in_force"])

        verification = json.loads(pack.read("audit-verification.json"))
        assert verification["ok"] is True and verification["entries"] == entries
        assert verification["broken_entry"] is None and verification["verified_at"]
        # The journey moves two review dates straight in the table (no service makes a
        # review overdue but time): the pack names both, as 'audit reconcile' does.
        differences = verification["register_reconciliation"]["differences"]
        assert verification["register_reconciliation"]["ok"] is False
        assert sorted(d.split(": the register")[0] for d in differences) == sorted(
            f"grant {g}, review_due" for g in (journey.kept, journey.overdue))

        register = csv_rows(pack, "register.csv")
        assert [int(r["id"]) for r in register] == sorted(db.session.scalars(sa.select(Grant.id)))
        by_id = {int(r["id"]): r for r in register}
        assert by_id[journey.formula]["tasks"] == "'" + FORMULA_TASKS
        assert (by_id[journey.revoked_open]["status"], by_id[journey.revoked_open]["removed_at"]
                ) == ("revoked", "")
        # Who ended it; an ended access has no review due.
        assert by_id[journey.revoked_open]["ended_by"] == db.session.get(
            Grant, journey.revoked_open).ended_by.username
        assert by_id[journey.revoked_open]["review_due"] == ""
        people = {r["username"]: r for r in csv_rows(pack, "employees.csv")}
        assert people["kfi"]["status"] == "active" and people["kfi"]["name"] == "Klaus Fisker"
        acknowledged = csv_rows(pack, "acknowledgements.csv")
        assert len(acknowledged) == db.session.scalar(
            sa.select(sa.func.count()).select_from(Acknowledgement))
        assert all(r["principles_sha256"] for r in acknowledged)
        reviews = csv_rows(pack, "reviews.csv")
        assert [(int(r["grant_id"]), r["decision"]) for r in reviews] == [(journey.kept, "keep")]
        audit = csv_rows(pack, "audit.csv")
        assert len(audit) == entries and audit[-1]["hash"] == db.session.get(
            AuditHead, 1).last_hash


def test_evidence_pack_of_a_broken_chain_is_written_and_exits_1(app, runner, tmp_path):
    build_journey()
    db.session.execute(sa.update(AuditHead).values(entries=AuditHead.entries + 1))
    db.session.commit()
    out = tmp_path / "evidence.zip"
    result = runner.invoke(args=["export", "evidence", str(out)])
    assert result.exit_code == 1 and "audit chain is broken" in result.output
    with zipfile.ZipFile(out) as pack:
        assert json.loads(pack.read("audit-verification.json"))["ok"] is False


def test_evidence_pack_into_a_missing_folder_fails_cleanly(app, runner, tmp_path):
    result = runner.invoke(args=["export", "evidence", str(tmp_path / "no" / "pack.zip")])
    assert result.exit_code == 1 and "could not write" in result.output


def test_evidence_pack_holds_every_policy_version_ever_in_force(app, runner, tmp_path):
    """A new version replaces the one in force; the pack still holds the one an earlier
    approval was judged by, named by id and the moment it was loaded."""
    load_a_six_month_version(tmp_path)
    versions = db.session.scalars(sa.select(PolicyVersion).order_by(PolicyVersion.id)).all()
    assert [v.name for v in versions].count("eu-oest") == 2
    out = tmp_path / "evidence.zip"
    assert runner.invoke(args=["export", "evidence", str(out)]).exit_code == 0
    with zipfile.ZipFile(out) as pack:
        history = json.loads(pack.read("manifest.json"))["policy_versions"]
        assert [v["version_id"] for v in history["versions"]] == [v.id for v in versions]
        for listed, version in zip(history["versions"], versions):
            assert pack.read(listed["file"]).decode("utf-8") == version.content
            assert listed["loaded_at"] == version.loaded_at.isoformat()
        old, new = [v for v in versions if v.name == "eu-oest"]
        assert json.loads(old.content) != json.loads(new.content)


def test_the_pack_s_audit_lines_let_anyone_recompute_every_hash(app, runner, api, tmp_path):
    """audit.jsonl holds each entry exactly as hashed, so the chain can be re-checked from
    the pack alone; the spreadsheet copy guards '-' (a refused request has no number) and
    '=' against formulas, and cannot be."""
    from .workflow import TASKS
    refused = api("ahn").post("/api/v1/requests", json={
        "grantee": "ahn", "system": "CPR", "access_level": "read", "scope": "summary",
        "purpose": "eu-oest", "tasks": TASKS, "frequency": "weekly",
        "data_categories": ["address", "religion"]})
    assert refused.status_code == 422
    out = tmp_path / "evidence.zip"
    assert runner.invoke(args=["export", "evidence", str(out)]).exit_code == 0
    with zipfile.ZipFile(out) as pack:
        lines = [json.loads(line) for line in pack.read("audit.jsonl").decode().splitlines()]
        manifest = json.loads(pack.read("manifest.json"))
        csv_refusal = next(r for r in csv_rows(pack, "audit.csv")
                           if r["action"] == "request.refused")
    assert "audit.jsonl" in [f["path"] for f in manifest["files"]]
    assert "length in characters" in manifest["audit_chain"]["hash"]
    assert [e["id"] for e in lines] == list(range(1, len(lines) + 1))
    assert len(lines) == db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    previous = "0" * 64
    for entry in lines:
        fields = [str(entry["id"]), entry["created_at"], entry["actor"], entry["action"],
                  entry["object_type"], entry["object_id"], entry["summary"],
                  entry["details"], entry["client_address"]]
        body = "".join(f"{len(text)}:{text};" for text in fields)
        assert entry["prev_hash"] == previous
        assert hashlib.sha256((previous + body).encode("utf-8")).hexdigest() == entry["hash"]
        previous = entry["hash"]
    assert previous == db.session.get(AuditHead, 1).last_hash
    refusal = next(e for e in lines if e["action"] == "request.refused")
    assert refusal["object_id"] == "-" and csv_refusal["object_id"] == "'-"


def test_a_policy_file_not_in_force_is_not_packed_as_if_it_were(app, runner, tmp_path):
    """A version loaded from elsewhere is in force; the folder's older file goes under
    policies/not-in-force/, and the manifest says so."""
    load_a_six_month_version(tmp_path)
    out = tmp_path / "evidence.zip"
    assert runner.invoke(args=["export", "evidence", str(out)]).exit_code == 0
    with zipfile.ZipFile(out) as pack:
        names = set(pack.namelist())
        manifest = json.loads(pack.read("manifest.json"))
        assert "policies/eu-oest.yaml" not in names
        assert pack.read("policies/not-in-force/eu-oest.yaml") == (
            PROJECT_ROOT / "policies" / "eu-oest.yaml").read_bytes()
        assert "policies/principles.yaml" in names        # its version in force is this file
        assert manifest["policy_files_not_in_force"]["files"] == [
            "policies/not-in-force/eu-oest.yaml"]
        force = {p["name"]: p["folder_file_matches"] for p in manifest["policies_in_force"]}
        assert force == {"eu-oest": False, "principles": True}


def test_the_pack_holds_the_review_reports_and_what_access_held_fails_today(app, runner,
                                                                            tmp_path):
    """What an inspector asks after the register: the yearly review reports (this year and
    the last) and the findings, the overdue review among them (P5)."""
    from governance.services import clock
    journey = build_journey()
    out = tmp_path / "evidence.zip"
    assert runner.invoke(args=["export", "evidence", str(out)]).exit_code == 0
    year = clock.today().year
    with zipfile.ZipFile(out) as pack:
        names = set(pack.namelist())
        assert {f"review-report-{year}.csv", f"review-report-{year - 1}.csv",
                "findings.csv"} <= names
        report = csv_rows(pack, f"review-report-{year}.csv")
        findings = csv_rows(pack, "findings.csv")
    overdue = db.session.get(Grant, journey.overdue)
    assert any(r["Revurderingsstatus"] == "overskredet" and r["Bruger"] ==
               overdue.grantee.username for r in report)
    assert {"grant_id": str(overdue.id), "code": "REVIEW_OVERDUE", "principle": "P5"}.items() \
        <= next(f for f in findings if f["grant_id"] == str(overdue.id)).items()
