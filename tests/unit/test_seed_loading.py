"""Reading seed/*.yaml: the shipped seed loads, and every fault is located.

Invalid variants copy the shipped seed folder to tmp_path and change one file.
Every refusal must name the file, the entry and the field (and the line, where
the reader knows it; the cross-checks between files run after parsing and have
no line).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from governance.domain.seed import read_seed
from governance.domain.source import SourceError
from governance.domain.vocabulary import CRIMINAL_CATEGORY, SPECIAL_CATEGORIES

from .located import assert_located, line_of

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seed"
SYSTEM_CODES = ("UIS", "CPR", "CVR", "EINDKOMST", "ACADRE", "FASIT", "SAPA")


@pytest.fixture(scope="module")
def seed():
    return read_seed(SEED)


# --------------------------------------------------------------------------- helpers

def seed_variant(tmp_path: Path, file: str, old: str, new: str) -> tuple[Path, Path, str]:
    """A copy of the shipped seed with the first ``old`` in ``file`` replaced by ``new``."""
    folder = tmp_path / "seed"
    shutil.copytree(SEED, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {file}; the test is out of date"
    altered = text.replace(old, new, 1)
    path.write_text(altered, encoding="utf-8")
    return folder, path, altered


def refused_seed(tmp_path, file, old, new) -> tuple[SourceError, Path, str]:
    folder, path, text = seed_variant(tmp_path, file, old, new)
    with pytest.raises(SourceError) as caught:
        read_seed(folder)
    return caught.value, path, text


# --------------------------------------------------------------------------- the shipped seed

def test_shipped_seed_reads_every_file(seed):
    assert sorted(Path(name).name for name in seed.files) == [
        "categories.yaml", "centres.yaml", "demo-logins.yaml", "employees.yaml",
        "systems.yaml"]


def test_shipped_seed_centres(seed):
    codes = {c.code for c in seed.centres}
    assert len(codes) >= 8
    assert {"ØAC", "CBA", "SAC", "FDC", "SPC", "UUC", "CEIS"} <= codes
    people = {e.username for e in seed.employees}
    for centre in seed.centres:
        assert centre.name
        assert centre.manager in people


def test_shipped_seed_named_approvers_dpo_and_admin(seed):
    people = {e.username: e for e in seed.employees}
    assert people["kfi"].name == "Klaus Fisker" and "approver" in people["kfi"].roles
    assert people["tko"].name == "Tina Koudal" and "approver" in people["tko"].roles
    assert {e.username for e in seed.employees if "approver" in e.roles} == {"kfi", "tko"}
    assert "dpo" in people["dpo"].roles
    assert "admin" in people["admin"].roles
    assert all(e.status == "active" for e in seed.employees)


def test_shipped_seed_requesters_from_several_centres(seed):
    requesters = [e for e in seed.employees
                  if "requester" in e.roles and not {"approver", "user_admin"} & set(e.roles)]
    assert len(requesters) >= 4
    assert len({e.centre for e in requesters}) >= 2


def test_shipped_seed_people_are_unique_and_reachable(seed):
    usernames = [e.username for e in seed.employees]
    emails = [e.email for e in seed.employees]
    assert len(set(usernames)) == len(usernames)
    assert len(set(emails)) == len(emails)
    centres = {c.code for c in seed.centres}
    assert all(e.centre in centres for e in seed.employees)


def test_shipped_seed_systems_each_have_a_user_admin(seed):
    people = {e.username: e for e in seed.employees}
    systems = {s.code: s for s in seed.systems}
    assert tuple(systems) == SYSTEM_CODES
    for code in SYSTEM_CODES:
        system = systems[code]
        assert system.user_admins, code
        for username in system.user_admins:
            assert "user_admin" in people[username].roles, (code, username)
        assert system.owner in people
        assert "read" in system.access_levels


def test_shipped_seed_categories(seed):
    kinds = {c.code: c.kind for c in seed.categories}
    for code in SPECIAL_CATEGORIES:
        assert kinds[code] == "special"
    assert kinds[CRIMINAL_CATEGORY] == "criminal"
    assert kinds["cpr_number"] == "cpr_number"
    for system in seed.systems:
        assert set(system.data_categories) <= set(kinds)


def test_shipped_seed_demo_logins(seed):
    assert {"kfi", "tko", "dpo", "admin"} <= set(seed.demo_logins)
    people = {e.username for e in seed.employees}
    for username, password in seed.demo_logins.items():
        assert username in people and len(password) >= 8


def test_shipped_seed_register_facts(seed):
    facts = seed.register_facts()
    assert set(facts.systems) == set(SYSTEM_CODES)
    assert facts.people["kfi"].name == "Klaus Fisker" and facts.people["kfi"].active
    assert "approver" in facts.people["tko"].roles
    assert facts.categories["health"] == "special"
    child = facts.systems["ACADRE"].areas["child_cases"]
    assert (child.contact, child.contact_name, child.contact_email) == (
        "hvi", "Helle Vinther", "hvi@htk.dk")
    assert child.scopes == ("detail",) and child.categories == ("family", "case_documents")
    assert facts.systems["CPR"].areas["protected_persons"].contact_name == "Thomas Brandt"
    assert facts.systems["CVR"].areas == {}
    assert facts.systems["ACADRE"].access_levels == ("read", "write")


def test_a_single_seed_file_can_be_read(tmp_path):
    data = read_seed(SEED / "categories.yaml")
    assert len(data.categories) == 20 and data.employees == [] and data.systems == []


def test_display_root_shortens_file_names(tmp_path):
    data = read_seed(SEED, display_root=ROOT)
    assert "seed/employees.yaml" in data.files
    error, path, _ = refused_seed(tmp_path, "employees.yaml", "roles: [dpo]", "roles: [dp0]")
    with pytest.raises(SourceError) as caught:
        read_seed(path.parent, display_root=tmp_path)
    assert str(caught.value).startswith("seed/employees.yaml:")


# --------------------------------------------------------------------------- located in a file

@pytest.mark.parametrize("file, old, new, entry, field, at, says", [
    pytest.param("employees.yaml", "roles: [dpo]", "roles: [dp0]", "employees[2] (dpo)",
                 "roles", "roles: [dp0]", "unknown role 'dp0'; did you mean 'dpo'?",
                 id="unknown-role"),
    pytest.param("employees.yaml", "title: Centerchef, roles: [requester, approver]",
                 "titel: Centerchef, roles: [requester, approver]", "employees[0] (kfi)",
                 "titel", "titel:", "unknown key 'titel'; did you mean 'title'?",
                 id="misspelt-key-employee"),
    # Codes are parts of addresses (/systems/<code>, /centres/<code>/edit).
    pytest.param("systems.yaml", "  - code: UIS", "  - code: DU/BU", "systems[0] (DU/BU)",
                 "code", "code: DU/BU", "'DU/BU' is not a system code", id="system-code-slash"),
    pytest.param("centres.yaml", "  - code: SAC", "  - code: buf-1", "centres[2] (buf-1)",
                 "code", "code: buf-1", "'buf-1' is not a centre code", id="centre-code-lower"),
    pytest.param("employees.yaml", "name: Anne Holm Nielsen,", "name: '   ',",
                 "employees[4] (ahn)", "name", "name: '   '", "is required", id="blank-name"),
    pytest.param("employees.yaml", "email: ahn@htk.dk", "email: 'ahn@ @'",
                 "employees[4] (ahn)", "email", "ahn@ @", "'ahn@ @' is not an e-mail address",
                 id="email-without-domain"),
    pytest.param("employees.yaml", "email: ahn@htk.dk", "email: ahn@htk..dk",
                 "employees[4] (ahn)", "email", "ahn@htk..dk",
                 "'ahn@htk..dk' is not an e-mail address", id="email-empty-domain-label"),
    pytest.param("employees.yaml", "{username: ahn,", "{username: New,", "employees[4] (New)",
                 "username", "username: New",
                 "'New' cannot be a username: /employees/new is the page for adding",
                 id="reserved-username"),
    pytest.param("employees.yaml", "email: mbe@htk.dk", "email: AHN@htk.dk",
                 "employees[5] (mbe)", "email", "AHN@htk.dk",
                 "'AHN@htk.dk' is already the e-mail address of 'ahn'", id="shared-email"),
    pytest.param("employees.yaml", "email: ahn@htk.dk", "email: ahn.htk.dk",
                 "employees[4] (ahn)", "email", "ahn.htk.dk",
                 "'ahn.htk.dk' is not an e-mail address", id="bad-email"),
    pytest.param("employees.yaml", "title: Kontrolmedarbejder, roles: [requester]}",
                 "title: Kontrolmedarbejder, roles: [requester], status: gone}",
                 "employees[4] (ahn)", "status", "status: gone",
                 "unknown status 'gone'; expected one of: active, left", id="unknown-status"),
    pytest.param("employees.yaml", "name: Mads Bech", "name: 1234", "employees[5] (mbe)",
                 "name", "name: 1234", "must be text, not the number 1234 (write it in quotes)",
                 id="number-where-text"),
    pytest.param("employees.yaml", "name: Mads Bech", 'name: "Mads\\0 Bech"',
                 "employees[5] (mbe)", "name", "Mads\\0",
                 "holds a character that cannot be stored (U+0000", id="nul-in-text"),
    pytest.param("employees.yaml", "email: mbe@htk.dk, ", "", "employees[5] (mbe)", "email",
                 "{username: mbe", "is required", id="missing-field"),
    pytest.param("employees.yaml", "{username: mbe, ", "{usrname: mbe, ", "employees[5]",
                 "usrname", "usrname: mbe", "unknown key 'usrname'; did you mean 'username'?",
                 id="misspelt-required-key"),
    pytest.param("systems.yaml", "    description: Virksomheder og ejerforhold.",
                 "    descripton: Virksomheder og ejerforhold.", "systems[2] (CVR)",
                 "descripton", "descripton:",
                 "unknown key 'descripton'; did you mean 'description'?",
                 id="misspelt-key-system"),
    pytest.param("systems.yaml", "        categories: [employment]\n",
                 "        categories: [employment]\n        scope: [detail]\n",
                 "systems[4] (ACADRE) > non_grantable_areas[1] (personnel_cases)", "scope",
                 "scope: [detail]", "unknown key 'scope'; did you mean 'scopes'?",
                 id="misspelt-key-area"),
    pytest.param("systems.yaml", "    access_levels: [read, write]\n",
                 "    access_levels: [read, admin]\n", "systems[4] (ACADRE)", "access_levels",
                 "access_levels: [read, admin]", "unknown access level 'admin'",
                 id="unknown-access-level"),
    pytest.param("systems.yaml",
                 "    owner: kfi\n    user_admins: [ekj]\n    access_levels: [read]\n"
                 "    scopes: [summary]\n",
                 "    owner: kfi\n    user_admins: [ekj]\n    access_levels: [read]\n"
                 "    scopes: [summary]\n    non_grantable_areas:\n      - key: all\n"
                 "        name_da: Alt\n        name_en: All\n        scopes: [detail]\n"
                 "        contact: ekj\n",
                 "systems[2] (CVR) > non_grantable_areas[0] (all)", "scopes",
                 "scopes: [detail]\n        contact: ekj",
                 "unknown scope of CVR 'detail'", id="area-scope-not-in-system"),
    pytest.param("systems.yaml", "    external_owner: Erhvervsstyrelsen\n", "",
                 "systems[2] (CVR)", "external_owner", "  - code: CVR", "is required",
                 id="missing-field-system"),
    pytest.param("systems.yaml",
                 "    scopes: [summary]\n    data_categories: [identity, employment]",
                 "    scopes: [summary, summary]\n    data_categories: [identity, employment]",
                 "systems[2] (CVR)", "scopes", "scopes: [summary, summary]",
                 "lists the same value twice", id="value-twice"),
    pytest.param("categories.yaml", "{code: identity, kind: ordinary",
                 "{code: identity, kind: normal", "categories[0] (identity)", "kind",
                 "kind: normal", "unknown category kind 'normal'", id="unknown-category-kind"),
    pytest.param("centres.yaml", "  - code: CBA\n", "  - code: ØAC\n", "centres[1] (ØAC)",
                 "code", "  - code: ØAC\n    name: Center for Borgerservice",
                 "'ØAC' is already defined in", id="duplicate-centre-in-file"),
    pytest.param("demo-logins.yaml", "  kfi: htk-demo-2024", "  kfi: kort", "demo_logins",
                 "kfi", "kfi: kort", "a demo password must be text of at least 8 characters",
                 id="demo-password-too-short"),
    pytest.param("demo-logins.yaml", "  kfi: htk-demo-2024", "  kfi: 12345678", "demo_logins",
                 "kfi", "kfi: 12345678", "a demo password must be text", id="demo-password-number"),
])
def test_invalid_seed_entry_is_located(tmp_path, file, old, new, entry, field, at, says):
    error, path, text = refused_seed(tmp_path, file, old, new)
    assert_located(error, path, entry=entry, field=field, line=line_of(text, at), says=says)


@pytest.mark.parametrize("file, old, new, field, at, says", [
    pytest.param("categories.yaml", "categories:\n", "categorys:\n", "categorys", "categorys:",
                 "unknown key 'categorys'; did you mean 'categories'?",
                 id="misspelt-section"),
    pytest.param("centres.yaml", "centres:\n", "holidays: []\ncentres:\n", "holidays",
                 "holidays:", "unknown key 'holidays'", id="unknown-section"),
    pytest.param("centres.yaml", "centres:\n", "centres: ØAC\nold_centres:\n", "centres",
                 "centres:", "must be a list, not 'ØAC'", id="text-where-list"),
])
def test_invalid_seed_section_is_located(tmp_path, file, old, new, field, at, says):
    error, path, text = refused_seed(tmp_path, file, old, new)
    assert_located(error, path, field=field, line=line_of(text, at), says=says)


def test_seed_duplicate_username_across_two_files(tmp_path):
    folder = tmp_path / "seed"
    shutil.copytree(SEED, folder)
    extra = folder / "zz-more-employees.yaml"
    extra.write_text("employees:\n  - {username: nra, name: Nina Rask, email: nr@htk.dk, "
                     "centre: SAC, roles: [requester]}\n", encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        read_seed(folder)
    assert_located(caught.value, extra, entry="employees[0] (nra)", field="username", line=2,
                   says=f"'nra' is already defined in {folder / 'employees.yaml'} "
                        f"(employees[8] (nra))")


def test_seed_duplicate_key_in_a_mapping(tmp_path):
    error, path, text = refused_seed(tmp_path, "employees.yaml", "{username: kfi, name: Klaus",
                                     "{username: kfi, username: kfx, name: Klaus")
    assert_located(error, path, line=line_of(text, "username: kfx"),
                   says="key 'username' appears twice")


def test_seed_invalid_yaml(tmp_path):
    error, path, text = refused_seed(tmp_path, "systems.yaml", "    user_admins: [rha]\n",
                                     "    user_admins: [rha\n")
    assert_located(error, path, says="is not valid YAML")
    assert error.line is not None and error.line >= line_of(text, "user_admins: [rha")


# --------------------------------------------------------------------------- across files

@pytest.mark.parametrize("file, old, new, entry, field, says", [
    pytest.param("employees.yaml", "centre: SAC, title: Socialrådgiver",
                 "centre: SAK, title: Socialrådgiver", "employees[6] (sjo)", "centre",
                 "unknown centre 'SAK'; did you mean 'SAC'?", id="unknown-centre"),
    pytest.param("systems.yaml", "user_admins: [rha]", "user_admins: [rhx]", "systems[0] (UIS)",
                 "user_admins", "unknown employee 'rhx'; did you mean 'rha'?",
                 id="unknown-user-admin"),
    pytest.param("systems.yaml", "user_admins: [rha]", "user_admins: [ahn]", "systems[0] (UIS)",
                 "user_admins", "employee 'ahn' does not have the user_admin role",
                 id="user-admin-without-role"),
    pytest.param("systems.yaml", "user_admins: [rha]", "user_admins: []", "systems[0] (UIS)",
                 "user_admins", "every system needs a user administrator",
                 id="no-user-admin"),
    pytest.param("systems.yaml", "    owner: kfi\n", "    owner: kfj\n", "systems[2] (CVR)",
                 "owner", "unknown employee 'kfj'; did you mean 'kfi'?", id="unknown-owner"),
    pytest.param("systems.yaml", "data_categories: [identity, employment]",
                 "data_categories: [identity, employmnet]", "systems[2] (CVR)",
                 "data_categories", "unknown data category 'employmnet'; did you mean "
                 "'employment'?", id="unknown-category-on-system"),
    pytest.param("systems.yaml", "contact: hvi", "contact: hvv", "systems[4] (ACADRE)",
                 "non_grantable_areas (child_cases) > contact",
                 "unknown employee 'hvv'; did you mean 'hvi'?", id="unknown-area-contact"),
    pytest.param("systems.yaml", "        contact: lan\n",
                 "        categories: [health]\n        contact: lan\n", "systems[6] (SAPA)",
                 "non_grantable_areas (source_case_detail) > categories",
                 "'health' is not among the data categories SAPA holds",
                 id="area-category-not-held"),
    pytest.param("centres.yaml", "manager: hla", "manager: hlx", "centres[2] (SAC)", "manager",
                 "unknown employee 'hlx'; did you mean 'hla'?", id="unknown-manager"),
    pytest.param("centres.yaml", "manager: hla", "manager: HLA", "centres[2] (SAC)", "manager",
                 "unknown employee 'HLA'; did you mean 'hla'?", id="manager-in-capitals"),
    pytest.param("demo-logins.yaml", "  lan: htk-demo-2024", "  lan: htk-demo-2024\n"
                 "  xyz: htk-demo-2024", "demo_logins > xyz", "xyz", "unknown employee 'xyz'",
                 id="demo-login-for-nobody"),
])
def test_invalid_seed_reference_is_located(tmp_path, file, old, new, entry, field, says):
    error, path, _ = refused_seed(tmp_path, file, old, new)
    assert_located(error, path, entry=entry, field=field, says=says)


def test_seed_references_may_cross_files_in_any_order(tmp_path):
    # An employee defined in a file read after the systems that name them.
    folder, path, _ = seed_variant(
        tmp_path, "systems.yaml", "user_admins: [rha]", "user_admins: [zed]")
    (folder / "zz-late.yaml").write_text(
        "employees:\n  - {username: zed, name: Zed Late, email: zed@htk.dk, centre: CBA, "
        "roles: [user_admin]}\n", encoding="utf-8")
    data = read_seed(folder)
    assert {s.code: s.user_admins for s in data.systems}["UIS"] == ("zed",)


# --------------------------------------------------------------------------- the folder

def test_seed_path_that_does_not_exist(tmp_path):
    with pytest.raises(SourceError) as caught:
        read_seed(tmp_path / "nowhere")
    assert_located(caught.value, tmp_path / "nowhere", says="no such seed file or folder")


def test_seed_folder_without_yaml(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here", encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        read_seed(tmp_path)
    assert_located(caught.value, tmp_path, says="holds no .yaml seed files")


@pytest.mark.parametrize("content", ["", "- centres\n", "just text\n"])
def test_seed_file_that_is_not_a_mapping(tmp_path, content):
    path = tmp_path / "broken.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        read_seed(tmp_path)
    assert_located(caught.value, path, says="must be a mapping")


def test_seed_area_key_defined_twice_for_a_system(tmp_path):
    area = "      - key: personnel_cases\n"
    error, path, _ = refused_seed(tmp_path, "systems.yaml", area,
                                  "      - key: child_cases\n")
    assert error.field == "key"
    assert "area 'child_cases' is defined twice for ACADRE" in str(error)


@pytest.mark.parametrize("old, new, file, entry, field, says", [
    pytest.param("title: Centerchef, roles: [requester]}",
                 "title: Centerchef, roles: [requester], status: left}", "centres.yaml",
                 "centres[2] (SAC)",
                 "manager", "employee 'hla' has left and cannot be a centre's manager",
                 id="leaver-as-manager"),
    pytest.param("title: Faglig koordinator, roles: [requester]}",
                 "title: Faglig koordinator, roles: [requester], status: left}",
                 "systems.yaml", "systems[4] (ACADRE)",
                 "non_grantable_areas (child_cases) > contact",
                 "employee 'hvi' has left and cannot be the contact person for an area",
                 id="leaver-as-area-contact"),
    pytest.param("roles: [requester, user_admin]}",
                 "roles: [requester, user_admin], status: left}", "systems.yaml",
                 "systems[0] (UIS)",
                 "user_admins", "employee 'rha' has left and cannot be a user administrator",
                 id="leaver-as-user-admin"),
])
def test_a_role_to_carry_out_now_is_not_given_to_a_leaver(tmp_path, old, new, file, entry,
                                                          field, says):
    error, _, _ = refused_seed(tmp_path, "employees.yaml", old, new)
    assert_located(error, tmp_path / "seed" / file, entry=entry, field=field, says=says)


def test_a_username_differing_only_in_case_is_already_defined(tmp_path):
    line = "roles: [requester]}\n"
    error, path, text = refused_seed(
        tmp_path, "employees.yaml", line,
        line + "  - {username: AHN, name: Anne H. Nielsen, email: a2@htk.dk, centre: ØAC, "
               "roles: [requester]}\n")
    assert error.field == "username" and "(AHN)" in error.entry
    assert "'AHN' is 'ahn' in another case, already defined in" in str(error)


@pytest.mark.parametrize("file, old, new, at", [
    ("employees.yaml", "centre: SAC, title: Socialrådgiver", "centre: XYZ, title: Socialrådgiver",
     "centre: XYZ"),
    ("systems.yaml", "contact: hvi", "contact: hvv", "contact: hvv"),
    ("centres.yaml", "manager: hla", "manager: hlx", "manager: hlx"),
])
def test_a_reference_across_files_is_located_on_its_line(tmp_path, file, old, new, at):
    error, path, text = refused_seed(tmp_path, file, old, new)
    assert str(error.file) == str(path)
    # The line of the field itself, or of the list of areas the contact is in.
    assert error.line is not None and error.line <= line_of(text, at)
    assert error.line >= line_of(text, at) - (6 if "contact" in at else 0)


def test_a_file_not_in_utf8_says_where_and_how_to_save_it(tmp_path):
    folder, path, text = seed_variant(tmp_path, "employees.yaml", "Mads Bech", "Mads Bæch")
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(SourceError) as caught:
        read_seed(folder)
    first = next(n for n, line in enumerate(text.splitlines(), 1) if not line.isascii())
    assert caught.value.line == first     # the first character that is not UTF-8
    assert "is not UTF-8 text" in str(caught.value) and "save it as UTF-8" in str(caught.value)


def test_one_seed_file_read_alone_says_to_pass_the_folder():
    with pytest.raises(SourceError) as caught:
        read_seed(SEED / "employees.yaml")
    assert "only this file was read" in str(caught.value)
    assert "pass the seed folder" in str(caught.value)


def test_a_category_code_must_be_a_code(tmp_path):
    error, path, text = refused_seed(tmp_path, "categories.yaml", "{code: identity,",
                                     "{code: iden tity,")
    assert_located(error, path, entry="categories[0] (iden tity)", field="code",
                   line=line_of(text, "iden tity"), says="is not a category code")


def test_a_name_saved_decomposed_reads_as_the_same_name(tmp_path):
    import unicodedata
    folder, path, text = seed_variant(tmp_path, "employees.yaml", "Dorthe Palm",
                                      unicodedata.normalize("NFD", "Dørthe Pålm"))
    names = {e.username: e.name for e in read_seed(folder).employees}
    assert names["dpo"] == unicodedata.normalize("NFC", "Dørthe Pålm")


@pytest.mark.parametrize("old, new, says", [
    ("{code: health, kind: special,", "{code: health, kind: ordinary,",
     "'health' is a special category (GDPR art. 9); its kind must be 'special', not "
     "'ordinary'"),
    ("{code: criminal, kind: criminal,", "{code: criminal, kind: special,",
     "'criminal' is criminal-offence data (GDPR art. 10); its kind must be 'criminal'")])
def test_the_law_fixes_the_kind_of_the_special_and_criminal_categories(tmp_path, old, new,
                                                                       says):
    """Principle 7 forbids categories by kind: a seed calling health data ordinary would
    let it be requested under a policy that left it out."""
    error, path, text = refused_seed(tmp_path, "categories.yaml", old, new)
    code = new.split(",")[0].split()[-1]
    assert_located(error, path, entry=f"categories[{_index_of(text, new)}] ({code})",
                   field="kind", line=line_of(text, new), says=says)


def _index_of(text: str, line: str) -> int:
    entries = [row for row in text.splitlines() if row.strip().startswith("- {code:")]
    return next(i for i, row in enumerate(entries) if line in row)


@pytest.mark.parametrize("day, why", [("2024-13-01", "month must be in 1..12"),
                                      ("2024-02-30", "day is out of range for month")])
def test_a_date_that_is_no_day_of_the_calendar_is_named_with_its_line(tmp_path, day, why):
    """YAML reads 2024-13-01 as a date and fails inside its own constructor: the file
    and line are named all the same."""
    error, path, text = refused_seed(
        tmp_path, "employees.yaml", "title: Kontrolmedarbejder, roles: [requester]}",
        f"title: Kontrolmedarbejder, roles: [requester], status: left, left_on: {day}}}")
    assert_located(error, path, line=line_of(text, day),
                   says=f"'{day}' is not a date of the calendar ({why})")
