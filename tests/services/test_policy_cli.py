"""flask policy check: exit 0 on the shipped policies, non-zero naming file, entry, field."""
import shutil
from pathlib import Path

import pytest

from governance.config import PROJECT_ROOT


def policies_with(tmp_path, old: str, new: str) -> Path:
    """A copy of the shipped policies whose eu-oest.yaml has `old` replaced by `new` once;
    the path of that file (its folder is the policy folder)."""
    folder = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", folder)
    path = folder / "eu-oest.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in eu-oest.yaml; the test is out of date"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def check(app, path=None):
    return app.test_cli_runner().invoke(args=["policy", "check"] + ([str(path)] if path else []))


def assert_passes(result):
    assert result.exit_code == 0, result.output
    assert "policy 'eu-oest' OK" in result.output
    assert "7 principles OK" in result.output


def test_shipped_policies_pass_against_the_register(app):
    assert_passes(check(app))


def test_shipped_policies_pass_against_the_seed_before_seeding(empty_app):
    result = check(empty_app)
    assert_passes(result)
    assert "against the seed in" in result.output


def test_a_new_municipality_checks_its_policies_against_its_own_seed(app, tmp_path):
    """Before (or instead of) the register in the database: the seed folder named, and the
    output says which register the names were checked against."""
    seed = tmp_path / "seed"
    shutil.copytree(PROJECT_ROOT / "seed", seed)
    for path in seed.glob("*.yaml"):              # its own people: tko is tka there
        path.write_text(path.read_text(encoding="utf-8").replace("tko", "tka"),
                        encoding="utf-8")
    assert "against the register in the database" in check(app).output
    result = app.test_cli_runner().invoke(args=["policy", "check", "--seed", str(seed)])
    assert result.exit_code == 1 and f"against the seed in {seed}" in result.output
    assert "eu-oest.yaml" in result.output and "approvers[1]" in result.output
    assert "unknown employee 'tko'; did you mean 'tka'?" in result.output


@pytest.mark.parametrize("old, new, expected", [
    ("- code: CVR", "- code: CVX", ["eu-oest.yaml", "systems[2]", "'code'", "unknown system 'CVX'",
                                    "did you mean 'CVR'"]),
    ("username: tko", "username: tka", ["eu-oest.yaml", "approvers[1]", "'username'",
                                        "unknown employee 'tka'"]),
    ("username: tko", "username: ahn", ["approvers[1]", "does not have the approver role"]),
    ("review_interval_months: 12", "review_intervall_months: 12",
     ["eu-oest.yaml", "review_intervall_months", "did you mean 'review_interval_months'"]),
    ("review_interval_months: 12", "review_interval_months: twelve",
     ["review_interval_months", "must be a whole number"]),
    ("  - criminal", "  - criminals", ["forbidden_categories", "unknown data category 'criminals'"]),
])
def test_broken_policy_fails_naming_the_place(app, tmp_path, old, new, expected):
    folder = policies_with(tmp_path, old, new).parent
    result = check(app, folder)
    assert result.exit_code == 1
    for part in expected:
        assert part in result.output, result.output


def test_line_number_is_given(app, tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", folder)
    path = folder / "eu-oest.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if "- code: FASIT" in line)
    lines[index] = lines[index].replace("FASIT", "FASITT")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = check(app, folder)
    assert result.exit_code == 1
    assert f"eu-oest.yaml:{index + 1}" in result.output


def test_an_approver_who_leaves_stops_a_new_policy_version_not_the_register(app, tmp_path):
    """The register goes on (seed, make run) while the policy in force names a leaver;
    policy check says so, and a changed policy naming them is not loaded."""
    from governance.extensions import db
    from governance.models import PolicyVersion
    from governance.services import employees
    from governance.services.actor import Actor
    import sqlalchemy as sa
    from governance.models import Employee
    admin = Actor.of(db.session.scalar(sa.select(Employee).filter_by(username="admin")))
    employees.update_employee(db.session, admin, "tko", {"status": "left"})
    db.session.commit()
    runner = app.test_cli_runner()
    seeded = runner.invoke(args=["seed"])
    assert seeded.exit_code == 0, seeded.output
    checked = check(app)
    assert checked.exit_code == 1
    assert "approvers[1]" in checked.output and "'tko' has left" in checked.output
    assert "eu-oest.yaml:13, entry approvers[1]" in checked.output   # the line naming tko
    folder = policies_with(tmp_path, "review_interval_months: 12",
                           "review_interval_months: 11").parent
    versions = db.session.scalar(sa.select(sa.func.count(PolicyVersion.id)))
    loaded = runner.invoke(args=["policy", "load", str(folder)])
    assert loaded.exit_code == 1 and "'tko' has left" in loaded.output
    assert "eu-oest.yaml:13" in loaded.output
    assert db.session.scalar(sa.select(sa.func.count(PolicyVersion.id))) == versions


def test_going_back_to_an_earlier_policy_file_puts_it_back_in_force(app, tmp_path):
    """A change undone is a new version in force with the earlier content; the history keeps
    every version in the order they were in force."""
    from governance.extensions import db
    from governance.services import policies
    folder = policies_with(tmp_path, "review_interval_months: 12",
                           "review_interval_months: 6").parent
    from ..services.workflow import active_grant
    from governance.services import clock
    active_grant(clock.today())
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["policy", "load", str(folder)])
    assert loaded.exit_code == 0
    assert ("Policy 'eu-oest': the review interval changed for ACADRE, CPR, CVR, EINDKOMST, "
            "FASIT, SAPA, UIS; 1 active accesses keep their due dates") in loaded.output
    assert policies.in_force(db.session).policies["eu-oest"].review_interval_months == 6
    back = runner.invoke(args=["policy", "load"])
    assert back.exit_code == 0, back.output
    assert "1 new policy versions recorded" in back.output
    db.session.expire_all()
    assert policies.in_force(db.session).policies["eu-oest"].review_interval_months == 12
    assert runner.invoke(args=["policy", "load"]).output.count("0 new policy versions") == 1


def test_a_policy_folder_that_does_not_exist_is_named_as_such(app, tmp_path):
    result = check(app, tmp_path / "nowhere")
    assert result.exit_code == 1 and "no such policy file or folder" in result.output


def test_a_new_version_that_drops_a_system_leaves_its_access_neither_created_nor_kept(
        app, tmp_path):
    """CVR leaves the policy: the command says what is no longer allowed; the approved CVR
    access is not created, the active one is not kept at review (422, audited), the DPO's
    page lists both, and revoking still works."""
    from governance.extensions import db
    from governance.services import clock, dashboard, evaluation
    from governance.services import grants as grant_service
    from governance.services import reviews as review_service
    from governance.services.errors import RuleViolation
    from ..services.workflow import active_grant, actor, approved_grant
    held = active_grant(clock.today(), user_admin="ekj", system="CVR", categories=("identity",))
    waiting = approved_grant(grantee="mbe", system="CVR", categories=("identity",))
    folder = policies_with(tmp_path, "  - code: CVR\n    access_levels: [read]\n"
                                     "    scopes: [summary]\n", "").parent
    loaded = app.test_cli_runner().invoke(args=["policy", "load", str(folder)])
    assert loaded.exit_code == 0, loaded.output
    assert "do not allow 1 active and 1 approved access(es) any more" in loaded.output

    with pytest.raises(RuleViolation) as refused:
        grant_service.fulfil(db.session, actor("ekj"), waiting.id)
    assert [c.code for c in refused.value.checks] == ["SYSTEM_NOT_IN_POLICY"]
    db.session.rollback()
    with pytest.raises(RuleViolation):
        review_service.review(db.session, actor("kfi"), held.id, "keep", "Behovet består")
    db.session.rollback()
    assert [c.code for c in evaluation.findings_for(db.session, waiting)] == [
        "SYSTEM_NOT_IN_POLICY"]
    found = dashboard.rule_findings(db.session, actor("dpo"), rule="SYSTEM_NOT_IN_POLICY")
    assert found.by_rule["SYSTEM_NOT_IN_POLICY"] == [held.id] and found.total == 1
    assert [row.id for row in found.rows] == [held.id]
    review_service.review(db.session, actor("kfi"), held.id, "revoke", "Ikke i politikken")
    grant_service.revoke(db.session, actor("kfi"), waiting.id, "Ikke i politikken")
    db.session.commit()
    assert (held.status, waiting.status) == ("revoked", "revoked")
    assert "The policies in force" not in app.test_cli_runner().invoke(
        args=["policy", "load", str(folder)]).output


def test_a_renamed_policy_leaves_the_old_one_in_force_until_it_is_retired(app, tmp_path):
    """The folder holds the policy under a new id: load says the old one is still in force
    and how to retire it; retiring is refused while access lives under it, then recorded
    as a version of its own, and the evidence pack no longer counts it in force."""
    from governance.extensions import db
    from governance.models import AuditEntry, PolicyVersion
    from governance.services import clock, policies
    from ..services.workflow import active_grant
    import sqlalchemy as sa
    folder = policies_with(tmp_path, "id: eu-oest", "id: eu-oest-2027").parent
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["policy", "load", str(folder)])
    assert loaded.exit_code == 0, loaded.output
    assert (f"Policy 'eu-oest' is in force but no file in {folder} holds it; it stays in "
            "force. To take it out of force: flask --app wsgi policy retire eu-oest"
            ) in loaded.output
    assert set(policies.in_force(db.session).policies) == {"eu-oest", "eu-oest-2027"}
    grant = active_grant(clock.today(), purpose="eu-oest")
    # The policy folder in use still holds eu-oest.yaml: the next load would bring it back.
    held = runner.invoke(args=["policy", "retire", "eu-oest"])
    assert held.exit_code == 1 and "still holds the policy 'eu-oest'" in held.output
    app.config["POLICY_PATH"] = str(folder)
    refused = runner.invoke(args=["policy", "retire", "eu-oest"])
    assert refused.exit_code == 1
    assert "still has 1 approved or active access(es) and 0 pending request(s)" in \
        refused.output
    from governance.services import grants as grant_service
    from ..services.workflow import actor
    grant_service.revoke(db.session, actor("kfi"), grant.id, "Flyttet til ny politik")
    db.session.commit()
    retired = runner.invoke(args=["policy", "retire", "eu-oest"])
    assert retired.exit_code == 0, retired.output
    db.session.expire_all()
    assert set(policies.in_force(db.session).policies) == {"eu-oest-2027"}
    from governance.services.evidence import latest_policy_versions
    assert [v.name for v in latest_policy_versions(db.session)] == ["eu-oest-2027",
                                                                    "principles"]
    assert db.session.scalar(sa.select(AuditEntry.action).order_by(AuditEntry.id.desc())
                             .limit(1)) == "policy.retire"
    again = runner.invoke(args=["policy", "load", str(folder)])
    assert again.exit_code == 0 and "not in force" not in again.output
    assert runner.invoke(args=["policy", "retire", "eu-oest"]).exit_code == 1
    # The shipped file brings it back as a new version, and says so.
    back = runner.invoke(args=["policy", "load", str(PROJECT_ROOT / "policies")])
    assert back.exit_code == 0, back.output
    assert "1 new policy versions" in back.output
    assert "Policy 'eu-oest' had been retired; its file puts it back in force." in back.output
    assert "eu-oest" in policies.in_force(db.session).policies
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PolicyVersion).where(
        PolicyVersion.name == "eu-oest")) == 3


def test_two_files_with_one_policy_id_name_each_other(app, tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", folder)
    shutil.copy(folder / "eu-oest.yaml", folder / "eu-oest-copy.yaml")
    result = check(app, folder)
    assert result.exit_code == 1
    assert "eu-oest-copy.yaml:" in result.output
    assert "policy id 'eu-oest' is also the id in" in result.output
    assert "eu-oest.yaml; each policy has its own id" in result.output


def test_checked_against_the_seed_a_missing_role_is_said_to_be_missing_there(app, tmp_path):
    seed = tmp_path / "seed"
    shutil.copytree(PROJECT_ROOT / "seed", seed)
    path = seed / "employees.yaml"
    text = path.read_text(encoding="utf-8")
    line = next(row for row in text.splitlines() if "username: tko" in row)
    path.write_text(text.replace(line, line.replace("approver", "requester")
                                 .replace("[requester, requester]", "[requester]")),
                    encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["policy", "check", "--seed", str(seed)])
    assert result.exit_code == 1
    assert "employee 'tko' does not have the approver role in the seed" in result.output


def test_a_first_load_without_principles_is_refused(empty_app, tmp_path):
    """Acknowledgements (P3) are of the principles in force: a register cannot start
    without them. Once they are in force, one policy file may be loaded on its own."""
    from governance.extensions import db
    from governance.models import PolicyVersion
    import sqlalchemy as sa
    folder = tmp_path / "policies"
    folder.mkdir()
    shutil.copy(PROJECT_ROOT / "policies" / "eu-oest.yaml", folder / "eu-oest.yaml")
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["seed", "--policies", str(folder)])
    assert result.exit_code == 1, result.output
    assert "holds no principles.yaml, and no principles are in force yet" in result.output
    assert db.session.scalar(sa.select(sa.func.count(PolicyVersion.id))) == 0
    assert runner.invoke(args=["seed"]).exit_code == 0
    assert runner.invoke(args=["policy", "load", str(folder)]).exit_code == 0


def test_one_policy_file_loaded_on_its_own_names_no_other_as_missing(app, tmp_path):
    folder = policies_with(tmp_path, "id: eu-oest", "id: andet").parent
    runner = app.test_cli_runner()
    assert runner.invoke(args=["policy", "load", str(folder)]).exit_code == 0
    shipped = PROJECT_ROOT / "policies" / "eu-oest.yaml"
    alone = runner.invoke(args=["policy", "load", str(shipped)])
    assert alone.exit_code == 0, alone.output
    assert "is in force but no file" not in alone.output
