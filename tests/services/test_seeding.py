"""Seeding: through the services, idempotent, audited, and all or nothing."""
import json
import shutil

import pytest
import sqlalchemy as sa

from governance.config import PROJECT_ROOT
from governance.extensions import db
from governance.models import (AuditEntry, Centre, DataCategory, Employee, NonGrantableArea,
                               PolicyVersion, System)

TABLES = (Centre, Employee, DataCategory, System, NonGrantableArea, PolicyVersion, AuditEntry)


def counts() -> dict:
    return {model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in TABLES}


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    db.session.remove()
    return result


def test_seed_loads_the_register_and_policies(empty_app):
    result = run(empty_app, "seed")
    assert result.exit_code == 0, result.output
    assert "kfi" in result.output and "htk-demo-2024" in result.output
    numbers = counts()
    # Everything is new on an empty register: counted as created, once (a centre given its
    # manager after the employees are made is not also an update).
    made = numbers["Centre"] + numbers["Employee"] + numbers["System"] + numbers["DataCategory"]
    assert f"{made} created, 0 updated" in result.output
    assert numbers["System"] == 7 and numbers["Centre"] >= 7
    assert numbers["PolicyVersion"] == 2
    kfi = db.session.scalar(sa.select(Employee).where(Employee.username == "kfi"))
    assert kfi.name == "Klaus Fisker" and "approver" in kfi.roles
    assert kfi.password_hash.startswith("$argon2id$")
    acadre = db.session.scalar(sa.select(System).where(System.code == "ACADRE"))
    assert {a.key for a in acadre.areas} == {"child_cases", "personnel_cases"}
    assert [u.username for u in acadre.user_admins] == ["sni"]
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"seed.create", "policy.load", "user.password_set"} <= actions
    assert run(empty_app, "audit", "verify").exit_code == 0


def test_seed_twice_changes_nothing(empty_app):
    assert run(empty_app, "seed").exit_code == 0
    before = counts()
    result = run(empty_app, "seed")
    assert result.exit_code == 0
    assert "0 created, 0 updated, 0 demo passwords set, 0 policy versions" in result.output
    assert counts() == before


def test_seed_prints_only_the_demo_logins_that_still_work(empty_app):
    """A demo password changed since (set-password), or a demo user who has left, is not
    printed as a login that works."""
    assert run(empty_app, "seed").exit_code == 0
    set_again = empty_app.test_cli_runner().invoke(args=["user", "set-password", "ahn"],
                                                   input="ny-adgangskode-2026\n")
    assert set_again.exit_code == 0, set_again.output
    db.session.scalar(sa.select(Employee).where(Employee.username == "mbe")).status = "left"
    db.session.commit()
    output = run(empty_app, "seed").output
    assert "kfi      htk-demo-2024" in output
    assert "ahn      htk-demo-2024" not in output and "mbe      htk-demo-2024" not in output
    assert ("Demo logins of the seed that no longer work: ahn (password changed since), "
            "mbe (has left).") in output


def test_seed_records_a_change_with_before_and_after(empty_app, tmp_path):
    assert run(empty_app, "seed").exit_code == 0
    folder = tmp_path / "seed"
    shutil.copytree(PROJECT_ROOT / "seed", folder)
    text = (folder / "employees.yaml").read_text(encoding="utf-8")
    (folder / "employees.yaml").write_text(
        text.replace("title: Kontrolmedarbejder", "title: Seniorkontrolmedarbejder"),
        encoding="utf-8")
    result = run(empty_app, "seed", str(folder))
    assert result.exit_code == 0, result.output
    assert "1 updated" in result.output
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "seed.update",
                                                          AuditEntry.object_type == "employee"))
    assert entry.object_id == "ahn"
    assert '"title":"Kontrolmedarbejder"' in entry.details
    assert '"title":"Seniorkontrolmedarbejder"' in entry.details


def test_an_area_the_seed_no_longer_names_is_removed_once(empty_app, tmp_path):
    """Removing a non-grantable area from the seed (and the policy) removes it from the
    register, audited with what it was; running the seed again changes nothing more."""
    assert run(empty_app, "seed").exit_code == 0
    seed, policy_dir = tmp_path / "seed", tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "seed", seed)
    shutil.copytree(PROJECT_ROOT / "policies", policy_dir)
    area = ("      - key: personnel_cases\n        name_da: Personalesager\n"
            "        name_en: Personnel (HR) cases\n        categories: [employment]\n"
            "        contact: kvi\n")
    text = (seed / "systems.yaml").read_text(encoding="utf-8")
    assert area in text
    (seed / "systems.yaml").write_text(text.replace(area, ""), encoding="utf-8")
    text = (policy_dir / "eu-oest.yaml").read_text(encoding="utf-8")
    (policy_dir / "eu-oest.yaml").write_text(
        text.replace("  - {system: ACADRE, area: personnel_cases}\n", ""), encoding="utf-8")
    first = run(empty_app, "seed", str(seed), "--policies", str(policy_dir))
    assert first.exit_code == 0 and "1 updated" in first.output, first.output
    keys = db.session.scalars(sa.select(NonGrantableArea.key).join(System).where(
        System.code == "ACADRE")).all()
    assert keys == ["child_cases"]
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "seed.update", AuditEntry.object_id == "ACADRE"))
    assert json.loads(entry.details)["before"]["non_grantable_areas"][1][
        "key"] == "personnel_cases"
    entries = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    again = run(empty_app, "seed", str(seed), "--policies", str(policy_dir))
    assert again.exit_code == 0 and "0 created, 0 updated" in again.output, again.output
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == entries


@pytest.mark.parametrize("file, old, new, expected", [
    ("employees.yaml", "centre: SAC, title: Socialrådgiver", "centre: XYZ, title: Socialrådgiver",
     ["employees.yaml", "employees[6] (sjo)", "centre", "unknown centre 'XYZ'"]),
    ("systems.yaml", "user_admins: [rha]", "user_admins: [nobody]",
     ["systems.yaml", "systems[0] (UIS)", "user_admins", "unknown employee 'nobody'"]),
    ("systems.yaml", "    external_owner: Udlændingestyrelsen",
     "    external_ownr: Udlændingestyrelsen",
     ["systems.yaml", "systems[0] (UIS)", "external_ownr", "did you mean 'external_owner'"]),
    # Longer than the register holds: named, not a database error (PostgreSQL) or cut.
    ("employees.yaml", "title: Socialrådgiver", "title: " + "S" * 201,
     ["employees.yaml", "(sjo)", "title", "201 characters long; at most 200 fit"]),
    ("centres.yaml", "  - code: SAC", "  - code: " + "S" * 21,
     ["centres.yaml", "code", "at most 20 fit"]),
])
def test_invalid_seed_writes_nothing_and_names_the_place(empty_app, tmp_path, file, old, new,
                                                         expected):
    folder = tmp_path / "seed"
    shutil.copytree(PROJECT_ROOT / "seed", folder)
    text = (folder / file).read_text(encoding="utf-8")
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    before = counts()
    result = run(empty_app, "seed", str(folder))
    assert result.exit_code == 1
    for part in expected:
        assert part in result.output
    assert "Nothing was written" in result.output
    assert counts() == before


def test_invalid_policy_during_seed_writes_nothing(empty_app, tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", folder)
    path = folder / "eu-oest.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("- code: SAPA", "- code: SAPO"),
                    encoding="utf-8")
    before = counts()
    result = run(empty_app, "seed", "--policies", str(folder))
    assert result.exit_code == 1
    assert "eu-oest.yaml" in result.output and "unknown system 'SAPO'" in result.output
    assert counts() == before


def test_seed_again_does_not_bring_a_leaver_back(empty_app):
    from governance.services import employees
    from governance.services.actor import Actor
    assert run(empty_app, "seed").exit_code == 0
    admin = db.session.scalar(sa.select(Employee).where(Employee.username == "admin"))
    employees.update_employee(db.session, Actor.of(admin), "mbe", {"status": "left"})
    db.session.commit()
    before = counts()
    result = run(empty_app, "seed")
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated" in result.output
    assert "mbe has left and stays so" in result.output
    assert counts() == before
    mbe = db.session.scalar(sa.select(Employee).where(Employee.username == "mbe"))
    assert mbe.status == "left" and mbe.left_on is not None


def test_a_seed_that_marks_someone_as_left_ends_their_access_as_the_hr_feed_does(
        empty_app, tmp_path):
    assert run(empty_app, "seed").exit_code == 0
    version = db.session.scalar(sa.select(Employee.session_version)
                                .where(Employee.username == "mbe"))
    folder = tmp_path / "seed"
    shutil.copytree(PROJECT_ROOT / "seed", folder)
    text = (folder / "employees.yaml").read_text(encoding="utf-8")
    (folder / "employees.yaml").write_text(text.replace(
        "title: Dataanalytiker, roles: [requester]}",
        "title: Dataanalytiker, roles: [requester], status: left}"), encoding="utf-8")
    result = run(empty_app, "seed", str(folder))
    assert result.exit_code == 0, result.output
    assert "1 updated" in result.output
    assert "mbe is marked as left: 0 accesses ended" in result.output
    mbe = db.session.scalar(sa.select(Employee).where(Employee.username == "mbe"))
    assert mbe.status == "left" and mbe.left_on is not None
    assert mbe.session_version == version + 1
    assert db.session.scalar(sa.select(AuditEntry.id).where(
        AuditEntry.action == "employee.left", AuditEntry.object_id == "mbe")) is not None
    assert run(empty_app, "seed", str(folder)).output.count("0 updated") == 1
    assert run(empty_app, "audit", "verify").exit_code == 0


def test_a_seed_says_who_it_leaves_out_and_ends_no_one_s_access(empty_app, tmp_path):
    """An employee the HR feed added, or one dropped from employees.yaml, stays as they are:
    the seed names them, so that a leaver is marked as one deliberately."""
    from governance.services import employees
    from governance.services.actor import Actor
    assert run(empty_app, "seed").exit_code == 0
    admin = Actor.of(db.session.scalar(sa.select(Employee).filter_by(username="admin")))
    employees.create_employee(db.session, admin, {
        "username": "xyz", "name": "Xenia Yde", "email": "xyz@htk.dk", "centre": "SAC"})
    db.session.commit()
    result = run(empty_app, "seed")
    assert result.exit_code == 0, result.output
    assert ("1 active employee is in the register but not in the seed, and keep their "
            "access: xyz.") in result.output
    assert db.session.scalar(sa.select(Employee.status).filter_by(username="xyz")) == "active"
    folder = tmp_path / "only-categories"
    folder.mkdir()
    shutil.copy(PROJECT_ROOT / "seed" / "categories.yaml", folder)
    partial = run(empty_app, "seed", str(folder))
    assert partial.exit_code == 0, partial.output
    assert "not in the seed" not in partial.output      # a seed without employees


def test_a_production_register_takes_no_demo_passwords(empty_app):
    empty_app.config["APP_ENV"] = "production"
    result = run(empty_app, "seed")
    assert result.exit_code == 1
    assert "demo-logins.yaml" in result.output and "production" in result.output
    assert "Nothing was written." in result.output


def test_seeding_again_keeps_what_the_hr_feed_and_the_admin_changed(empty_app, tmp_path):
    """The system administrator runs the seed to change systems.yaml: the HR feed's new
    centre and e-mail for mbe, and a centre's new manager, are not written back over; a
    value changed in the seed file itself is applied."""
    from governance.models import Centre
    from governance.services import employees
    from governance.services.actor import Actor
    assert run(empty_app, "seed").exit_code == 0
    admin = Actor.of(db.session.scalar(sa.select(Employee).filter_by(username="admin")))
    employees.update_employee(db.session, admin, "mbe", {"centre": "SAC",
                                                         "email": "mads.bech@htk.dk"})
    sac = db.session.scalar(sa.select(Centre).filter_by(code="SAC"))
    seeded_manager = sac.manager.username
    sac.manager = db.session.scalar(sa.select(Employee).filter_by(username="hvi"))
    db.session.commit()
    again = run(empty_app, "seed")
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated" in again.output
    assert "employee mbe (email, centre)" in again.output
    assert "centre SAC (manager)" in again.output
    mbe = db.session.scalar(sa.select(Employee).filter_by(username="mbe"))
    assert (mbe.centre.code, mbe.email) == ("SAC", "mads.bech@htk.dk")
    assert db.session.scalar(sa.select(Centre).filter_by(code="SAC")).manager.username == "hvi"
    # The file changes mbe's title: that is written, the HR feed's centre still stands.
    folder = tmp_path / "seed"
    shutil.copytree(PROJECT_ROOT / "seed", folder)
    text = (folder / "employees.yaml").read_text(encoding="utf-8")
    assert "title: Dataanalytiker, roles: [requester]}" in text
    (folder / "employees.yaml").write_text(text.replace(
        "title: Dataanalytiker, roles: [requester]}",
        "title: Seniordataanalytiker, roles: [requester]}"), encoding="utf-8")
    changed = run(empty_app, "seed", str(folder))
    assert "1 updated" in changed.output, changed.output
    db.session.expire_all()
    mbe = db.session.scalar(sa.select(Employee).filter_by(username="mbe"))
    assert (mbe.title, mbe.centre.code) == ("Seniordataanalytiker", "SAC")
    assert run(empty_app, "seed", str(folder)).output.count("0 updated") == 1
    assert seeded_manager != "hvi"


def test_a_system_dropped_from_the_seed_is_named_and_kept(empty_app, tmp_path):
    from governance.models import System
    assert run(empty_app, "seed").exit_code == 0
    folder = tmp_path / "seed"
    shutil.copytree(PROJECT_ROOT / "seed", folder)
    text = (folder / "systems.yaml").read_text(encoding="utf-8")
    start = text.index("  - code: CVR")
    end = text.index("  - code: ", start + 5)
    (folder / "systems.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    result = run(empty_app, "seed", str(folder))
    assert result.exit_code == 0, result.output
    assert "1 system in the register but not in the seed, kept as they are: CVR" in \
        result.output, result.output
    assert db.session.scalar(sa.select(System.id).where(System.code == "CVR")) is not None
