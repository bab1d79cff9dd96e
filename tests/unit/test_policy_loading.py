"""Loading policies/*.yaml: the shipped files load, and every fault is located.

Invalid variants are the shipped YAML text with one change, written to tmp_path.
Every refusal must name the file, the entry and the field (and the line, where
the reader knows it), so that a DPO can fix the file without reading code.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from governance.domain.policy import (
    PRINCIPLE_IDS, Approver, Policy, SystemRule, file_digest, load_policy, load_principles,
    policy_from_dict, policy_to_dict, principles_from_list, principles_to_list)
from governance.domain.rules import (RULE_PRINCIPLES, HeldAccess, ProposedRequest,
                                     evaluate_request, failures)
from governance.domain.seed import read_seed
from governance.domain.source import SourceError
from governance.domain.vocabulary import CRIMINAL_CATEGORY, SPECIAL_CATEGORIES

from .located import assert_located, line_of

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "policies" / "eu-oest.yaml"
PRINCIPLES = ROOT / "policies" / "principles.yaml"
SEED = ROOT / "seed"
SYSTEM_CODES = ("UIS", "CPR", "CVR", "EINDKOMST", "ACADRE", "FASIT", "SAPA")


@pytest.fixture(scope="module")
def register():
    return read_seed(SEED).register_facts()


@pytest.fixture(scope="module")
def policy(register) -> Policy:
    return load_policy(POLICY, register)


# --------------------------------------------------------------------------- helpers

def variant(tmp_path: Path, source: Path, old: str, new: str) -> tuple[Path, str]:
    """The shipped file with the first ``old`` replaced by ``new``, written to tmp_path."""
    text = source.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {source.name}; the test is out of date"
    altered = text.replace(old, new, 1)
    path = tmp_path / source.name
    path.write_text(altered, encoding="utf-8")
    return path, altered


def refused_policy(tmp_path, register, old, new) -> tuple[SourceError, Path, str]:
    path, text = variant(tmp_path, POLICY, old, new)
    with pytest.raises(SourceError) as caught:
        load_policy(path, register)
    return caught.value, path, text


def refused_principles(tmp_path, old, new) -> tuple[SourceError, Path, str]:
    path, text = variant(tmp_path, PRINCIPLES, old, new)
    with pytest.raises(SourceError) as caught:
        load_principles(path)
    return caught.value, path, text


# --------------------------------------------------------------------------- shipped files

def test_shipped_principles_load():
    principles = load_principles(PRINCIPLES)
    assert tuple(p.id for p in principles) == PRINCIPLE_IDS
    for principle in principles:
        for text in (principle.title_da, principle.title_en, principle.text_da,
                     principle.summary_en, principle.enforcement_da, principle.enforcement_en):
            assert text.strip()
    by_id = {p.id: p for p in principles}
    assert by_id["P2"].rule_codes == ()
    assert "Klaus Fisker" in by_id["P4"].text_da and "Tina Koudal" in by_id["P4"].text_da


def test_shipped_principles_attach_every_rule_code_once_to_its_principle():
    principles = load_principles(PRINCIPLES)
    attached = [(code, p.id) for p in principles for code in p.rule_codes]
    assert sorted(attached) == sorted(RULE_PRINCIPLES.items())


def test_shipped_policy_loads(policy, register):
    assert policy.id == "eu-oest"
    assert policy.name_da and policy.name_en and "19-11-2024" in policy.decision
    assert policy.approvers == (Approver("kfi", "Klaus Fisker"), Approver("tko", "Tina Koudal"))
    assert policy.approver_usernames == ("kfi", "tko")
    assert policy.default_access_level == "read"
    assert policy.dual_approval_levels == ("write",)
    assert policy.dual_approval_scopes == ("detail",)
    assert policy.review_interval_months == 12
    assert set(policy.forbidden_categories) == {*SPECIAL_CATEGORIES, CRIMINAL_CATEGORY}
    assert policy.recurring_frequencies == ("daily", "weekly", "monthly")
    assert policy.min_tasks_chars == 40 and policy.min_justification_chars == 40
    assert tuple(policy.systems) == SYSTEM_CODES
    assert policy.systems["ACADRE"] == SystemRule("ACADRE", ("read", "write"),
                                                  ("summary", "detail"), 12)
    assert policy.systems["CPR"] == SystemRule("CPR", ("read",), ("summary",), 12)
    for code, rule in policy.systems.items():
        facts = register.systems[code]
        assert set(rule.access_levels) <= set(facts.access_levels)
        assert set(rule.scopes) <= set(facts.scopes)
    assert policy.source_file == str(POLICY)
    assert policy.sha256 == file_digest(POLICY)


def test_shipped_policy_areas_carry_their_contact_person(policy):
    contacts = {(a.system, a.key): (a.contact, a.contact_name) for a in policy.non_grantable}
    assert contacts == {
        ("CPR", "protected_persons"): ("tbr", "Thomas Brandt"),
        ("ACADRE", "child_cases"): ("hvi", "Helle Vinther"),
        ("ACADRE", "personnel_cases"): ("kvi", "Karen Villadsen"),
        ("FASIT", "jobcentre_case_detail"): ("kda", "Kim Dalsgaard"),
        ("SAPA", "source_case_detail"): ("lan", "Line Andersen"),
    }
    for area in policy.non_grantable:
        assert area.contact_email == f"{area.contact}@htk.dk"


def test_shipped_policy_dual_approval_and_review_interval(policy):
    assert policy.approvals_needed("read", "summary") == 1
    assert policy.approvals_needed("write", "summary") == 2
    assert policy.approvals_needed("read", "detail") == 2
    assert policy.needs_dual_approval("write", "detail")
    assert not policy.needs_dual_approval("read", "summary")
    assert policy.review_interval_for("UIS") == 12
    assert policy.review_interval_for("NOT-A-SYSTEM") == 12


def test_display_name_is_used_in_the_policy_and_its_errors(tmp_path, register):
    assert load_policy(POLICY, register, "policies/eu-oest.yaml").source_file == \
        "policies/eu-oest.yaml"
    path, _ = variant(tmp_path, POLICY, "  - code: CVR\n", "  - code: CVX\n")
    with pytest.raises(SourceError) as caught:
        load_policy(path, register, "policies/eu-oest.yaml")
    assert str(caught.value).startswith("policies/eu-oest.yaml:")


def test_shipped_policy_passes_a_typical_task_force_request(policy):
    req = ProposedRequest(
        grantee="sjo", grantee_active=True, system="UIS", access_level="read",
        scope="summary", purpose="eu-oest",
        tasks="Kontrol af opholdsgrundlag for tilflyttede EU-borgere, ugentlige stikprøver.",
        frequency="weekly", data_categories=("identity", "residence"))
    assert failures(evaluate_request(req, policy)) == []
    assert not failures(evaluate_request(req, policy, [HeldAccess("CPR", "read", "summary")]))


def test_shipped_policy_refers_child_case_detail_to_the_contact_person(policy):
    req = ProposedRequest(
        grantee="ahn", grantee_active=True, system="ACADRE", access_level="read",
        scope="detail", purpose="eu-oest", tasks="x" * 40, frequency="daily",
        data_categories=("family",), write_justification="y" * 40)
    refused = failures(evaluate_request(req, policy))
    assert [c.code for c in refused] == ["AREA_NOT_GRANTABLE"]
    assert "Helle Vinther" in refused[0].message_da
    assert refused[0].contact["username"] == "hvi"


# --------------------------------------------------------------------------- round trip

def test_policy_round_trip_through_json_is_equal(policy):
    data = json.loads(json.dumps(policy_to_dict(policy)))
    assert policy_from_dict(data) == policy


def test_policy_round_trip_keeps_a_shorter_system_interval(tmp_path, register):
    path, _ = variant(tmp_path, POLICY, "  - code: CVR\n    access_levels: [read]\n",
                      "  - code: CVR\n    access_levels: [read]\n    review_interval_months: 6\n")
    loaded = load_policy(path, register)
    assert loaded.review_interval_for("CVR") == 6
    assert loaded.review_interval_for("UIS") == 12
    rebuilt = policy_from_dict(json.loads(json.dumps(policy_to_dict(loaded))))
    assert rebuilt == loaded
    assert rebuilt.systems["CVR"].review_interval_months == 6
    assert isinstance(rebuilt.non_grantable[0].scopes, tuple)
    assert isinstance(rebuilt.systems["CVR"].access_levels, tuple)


def test_principles_round_trip_through_json_is_equal():
    principles = load_principles(PRINCIPLES)
    data = json.loads(json.dumps(principles_to_list(principles)))
    assert principles_from_list(data) == principles


# --------------------------------------------------------------------------- invalid policies

SAPA_RULE = "  - code: SAPA\n    access_levels: [read]\n    scopes: [summary]\n"


@pytest.mark.parametrize("old, new, entry, field, at, says", [
    pytest.param("  - code: CVR\n", "  - code: CVX\n", "systems[2]", "code", "code: CVX",
                 "unknown system 'CVX'; did you mean 'CVR'?", id="unknown-system"),
    pytest.param("  - username: tko", "  - username: tk0", "approvers[1]", "username",
                 "username: tk0", "unknown employee 'tk0'; did you mean 'tko'?",
                 id="unknown-approver"),
    pytest.param("  - username: tko", "  - username: sjo", "approvers[1]", "username",
                 "username: sjo", "employee 'sjo' does not have the approver role",
                 id="approver-without-role"),
    pytest.param("    name: Tina Koudal", "    nmae: Tina Koudal", "approvers[1]", "nmae",
                 "nmae:", "unknown key 'nmae'; did you mean 'name'?",
                 id="misspelt-key-in-approver"),
    pytest.param(SAPA_RULE, SAPA_RULE + "    review_interval_month: 6\n", "systems[6] (SAPA)",
                 "review_interval_month", "review_interval_month:",
                 "unknown key 'review_interval_month'; did you mean 'review_interval_months'?",
                 id="misspelt-key-in-system"),
    pytest.param("  min_justification_chars: 40\n",
                 "  min_justification_chars: 40\n  min_task_chars: 20\n", "need_documentation",
                 "min_task_chars", "min_task_chars:",
                 "unknown key 'min_task_chars'; did you mean 'min_tasks_chars'?",
                 id="misspelt-key-in-need-documentation"),
    pytest.param("  min_tasks_chars: 40", "  min_tasks_chars: forty", "need_documentation",
                 "min_tasks_chars", "min_tasks_chars:",
                 "must be a whole number, not 'forty'", id="text-where-int"),
    pytest.param("  min_tasks_chars: 40", "  min_tasks_chars: 0", "need_documentation",
                 "min_tasks_chars", "min_tasks_chars:",
                 "must be between 1 and 1000 characters, not 0", id="zero-minimum"),
    pytest.param("  min_tasks_chars: 40", "  min_tasks_chars: 100000000000000000000",
                 "need_documentation", "min_tasks_chars", "min_tasks_chars:",
                 "must be between 1 and 1000 characters, not 100000000000000000000",
                 id="minimum-no-request-could-meet"),
    pytest.param("  escalate_after_days: 7", "  escalate_after_days: 99999999999999", "review",
                 "escalate_after_days", "escalate_after_days:",
                 "must be between 1 and 365 days (P5: a review at least once a year), "
                 "not 99999999999999", id="escalation-never"),
    pytest.param("  expire_overdue_after_days: null", "  expire_overdue_after_days: 400",
                 "review", "expire_overdue_after_days", "expire_overdue_after_days:",
                 "must be between 1 and 365 days", id="expiry-after-more-than-a-year"),
    pytest.param(SAPA_RULE, SAPA_RULE + "    review_interval_months: 'six'\n",
                 "systems[6] (SAPA)", "review_interval_months", "review_interval_months: 'six'",
                 "must be a whole number, not 'six'", id="text-where-int-in-system"),
    pytest.param(SAPA_RULE, SAPA_RULE + "    review_interval_months: 13\n",
                 "systems[6] (SAPA)", "review_interval_months", "review_interval_months: 13",
                 "must be between 1 and 12 months", id="system-interval-over-12"),
    pytest.param("  - code: SAPA\n    access_levels: [read]\n",
                 "  - code: SAPA\n    access_levels: read\n", "systems[6] (SAPA)",
                 "access_levels", "access_levels: read\n", "must be a list, not 'read'",
                 id="text-where-list"),
    pytest.param("  - code: CPR\n    access_levels: [read]\n",
                 "  - code: CPR\n    access_levels: [read, write]\n", "systems[1] (CPR)",
                 "access_levels", "access_levels: [read, write]",
                 "unknown access level for CPR 'write'", id="unknown-level-for-system"),
    pytest.param("  - code: CVR\n    access_levels: [read]\n    scopes: [summary]\n",
                 "  - code: CVR\n    access_levels: [read]\n    scopes: [summary, detail]\n",
                 "systems[2] (CVR)", "scopes", "scopes: [summary, detail]\n  - code: EIN",
                 "unknown scope for CVR 'detail'", id="unknown-scope-for-system"),
    pytest.param("  - code: UIS\n    access_levels: [read]\n    scopes: [summary, detail]\n",
                 "  - code: UIS\n    access_levels: [read]\n    scopes: [summary, sumary]\n",
                 "systems[0] (UIS)", "scopes", "scopes: [summary, sumary]",
                 "unknown scope for UIS 'sumary'; did you mean 'summary'?",
                 id="misspelt-scope-for-system"),
    pytest.param(SAPA_RULE, SAPA_RULE + "  - code: UIS\n    access_levels: [read]\n"
                                        "    scopes: [summary]\n",
                 "systems[7] (UIS)", "code",
                 "code: UIS\n    access_levels: [read]\n    scopes: [summary]\n",
                 "system UIS is listed twice",
                 id="duplicate-system"),
    pytest.param("{system: ACADRE, area: child_cases}", "{system: ACADRE, area: child_case}",
                 "non_grantable_areas[1]", "area", "{system: ACADRE, area: child_case}",
                 "unknown non-grantable area of ACADRE 'child_case'; did you mean "
                 "'child_cases'?", id="unknown-area"),
    pytest.param("{system: CPR, area: protected_persons}",
                 "{system: CVR, area: protected_persons}", "non_grantable_areas[0]", "area",
                 "{system: CVR", "system CVR has no non-grantable areas in the register",
                 id="area-of-system-without-areas"),
    pytest.param("{system: CPR, area: protected_persons}",
                 "{system: CPX, area: protected_persons}", "non_grantable_areas[0]", "system",
                 "{system: CPX", "unknown system 'CPX'; did you mean 'CPR'?",
                 id="area-of-unknown-system"),
    pytest.param("  access_levels: [write]\n  scopes: [detail]",
                 "  access_levels: [write]\n  scope: [detail]", "dual_approval", "scope",
                 "scope: [detail]", "unknown key 'scope'; did you mean 'scopes'?",
                 id="misspelt-required-key-in-dual-approval"),
    pytest.param("  access_levels: [write]\n  scopes: [detail]",
                 "  access_levels: [write]\n  scopes: [details]", "dual_approval", "scopes",
                 "scopes: [details]", "unknown scope 'details'; did you mean 'detail'?",
                 id="unknown-dual-approval-scope"),
    pytest.param("  - {system: ACADRE, area: personnel_cases}\n",
                 "  - {system: ACADRE, area: personnel_cases}\n"
                 "  - {system: ACADRE, area: personnel_cases, }\n",
                 "non_grantable_areas[3]", "area", "personnel_cases, }",
                 "area 'personnel_cases' of ACADRE is listed twice", id="area-twice"),
])
def test_invalid_policy_entry_is_located(tmp_path, register, old, new, entry, field, at, says):
    error, path, text = refused_policy(tmp_path, register, old, new)
    assert_located(error, path, entry=entry, field=field, line=line_of(text, at), says=says)


@pytest.mark.parametrize("old, new, field, at, says", [
    pytest.param("recurring_frequencies: [daily, weekly, monthly]",
                 "recurring_frequencies: [daily, weekly, monthly, once]",
                 "recurring_frequencies", "recurring_frequencies:",
                 "cannot count 'once' as recurring", id="once-as-recurring"),
    pytest.param("review_interval_months: 12", 'review_interval_months: "12"',
                 "review_interval_months", "review_interval_months:",
                 "must be a whole number, not '12'", id="text-where-int"),
    pytest.param("review_interval_months: 12", "review_interval_months: yes",
                 "review_interval_months", "review_interval_months:",
                 "must be a whole number, not the true/false value true", id="bool-where-int"),
    pytest.param("review_interval_months: 12", "review_interval_months: 13",
                 "review_interval_months", "review_interval_months:",
                 "must be between 1 and 12 months (P5: at least once a year), not 13",
                 id="interval-over-12"),
    pytest.param("review_interval_months: 12", "review_interval_months: 0",
                 "review_interval_months", "review_interval_months:",
                 "must be between 1 and 12 months", id="interval-zero"),
    pytest.param("  - sex_life\n", "  - sexlife\n", "forbidden_categories",
                 "forbidden_categories:",
                 "unknown data category 'sexlife'; did you mean 'sex_life'?",
                 id="unknown-forbidden-category"),
    pytest.param("recurring_frequencies: [daily, weekly, monthly]",
                 "recurring_frequencies: [daily, weekly, monthy]", "recurring_frequencies",
                 "recurring_frequencies:", "unknown frequency 'monthy'; did you mean 'monthly'?",
                 id="unknown-frequency"),
    pytest.param("default_access_level: read", "default_access_level: reed",
                 "default_access_level", "default_access_level:",
                 "unknown access level 'reed'; did you mean 'read'?", id="unknown-default-level"),
    pytest.param("default_access_level: read", "default_access_level: write",
                 "default_access_level", "default_access_level:",
                 "the default level cannot be one that needs dual approval",
                 id="default-level-needs-dual-approval"),
    pytest.param("non_grantable_areas:\n  - {system: CPR", "non_grantable_area:\n  - {system: CPR",
                 "non_grantable_area", "non_grantable_area:",
                 "unknown key 'non_grantable_area'; did you mean 'non_grantable_areas'?",
                 id="misspelt-top-level-key"),
    pytest.param("decision: Direktionen 19-11-2024, sag 24/6364, punkt 2\n", "", "decision",
                 "id: eu-oest", "is required", id="missing-field"),
    pytest.param("review_interval_months: 12", "review_interval_month: 12",
                 "review_interval_month", "review_interval_month:",
                 "unknown key 'review_interval_month'; did you mean 'review_interval_months'?",
                 id="misspelt-required-top-level-key"),
    pytest.param("  - username: tko\n    name: Tina Koudal\n",
                 "  - username: tko\n    name: Tina Koudal\n  - username: kfi\n",
                 "approvers", "approvers:", "names the same approver twice",
                 id="approver-twice"),
    pytest.param("dual_approval:\n  access_levels: [write]\n  scopes: [detail]",
                 "dual_approval: [write, detail]", "dual_approval", "dual_approval:",
                 "must be a mapping, not ['write', 'detail']", id="list-where-mapping"),
    # The principles are kept in the register under this name: a policy called so would
    # stand in for them and break every page that shows them.
    pytest.param("    name: Tina Koudal\n", "    name: Tine Koudahl\n", "name", "name: Tine",
                 "'Tine Koudahl' is not tko: the register calls tko 'Tina Koudal'",
                 id="approver-name-not-the-register-s"),
    # A missing Danish name is missing, not the English one misspelt.
    pytest.param("name_da: EU-øst indsatsen (kontrol af lovligt ophold)\n", "", "name_da",
                 "id: eu-oest", "is required", id="missing-name-da-not-name-en-misspelt"),
    pytest.param("id: eu-oest", "id: principles", "id", "id: principles",
                 "'principles' is the name the register keeps the principles under",
                 id="policy-named-principles"),
    pytest.param("id: eu-oest", "id: ydelses kontrol/x", "id", "id: ydelses",
                 "'ydelses kontrol/x' is not a policy id: lowercase letters",
                 id="policy-id-spaces"),
    pytest.param("id: eu-oest", "id: " + "y" * 61, "id", "id: yyy",
                 "at most 60 characters", id="policy-id-too-long"),
])
def test_invalid_policy_top_level_field_is_located(tmp_path, register, old, new, field, at,
                                                   says):
    error, path, text = refused_policy(tmp_path, register, old, new)
    assert_located(error, path, field=field, line=line_of(text, at), says=says)


def test_policy_interval_for_a_system_may_not_exceed_the_policys(tmp_path, register):
    text = POLICY.read_text(encoding="utf-8")
    text = text.replace("review_interval_months: 12", "review_interval_months: 6", 1)
    text = text.replace(SAPA_RULE, SAPA_RULE + "    review_interval_months: 9\n", 1)
    path = tmp_path / "eu-oest.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        load_policy(path, register)
    assert_located(caught.value, path, entry="systems[6] (SAPA)",
                   field="review_interval_months",
                   line=line_of(text, "review_interval_months: 9"),
                   says="may be shorter than the policy's 6 months, not longer")


def test_policy_interval_for_a_system_may_be_equal_or_shorter(tmp_path, register):
    path, _ = variant(tmp_path, POLICY, SAPA_RULE, SAPA_RULE + "    review_interval_months: 12\n")
    assert load_policy(path, register).review_interval_for("SAPA") == 12


def test_policy_without_approvers_is_refused(tmp_path, register):
    text = POLICY.read_text(encoding="utf-8")
    text = re.sub(r"approvers:\n(  - .*\n    .*\n)+", "approvers: []\n", text)
    assert "approvers: []" in text
    path = tmp_path / "eu-oest.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        load_policy(path, register)
    assert_located(caught.value, path, field="approvers", line=line_of(text, "approvers: []"),
                   says="at least one approver")


def test_policy_duplicate_key_in_a_mapping_is_located(tmp_path, register):
    old = "  - code: UIS\n    access_levels: [read]\n"
    error, path, text = refused_policy(tmp_path, register, old,
                                       old + "    access_levels: [read, write]\n")
    # The YAML reader finds this before any entry is read: it names file, line and key.
    assert_located(error, path, line=line_of(text, "access_levels: [read, write]"),
                   says="key 'access_levels' appears twice")


def test_policy_duplicate_top_level_key_is_located(tmp_path, register):
    error, path, text = refused_policy(tmp_path, register, "review_interval_months: 12\n",
                                       "review_interval_months: 12\nreview_interval_months: 6\n")
    assert_located(error, path, line=line_of(text, "review_interval_months: 6"),
                   says="key 'review_interval_months' appears twice")


@pytest.mark.parametrize("old, new, at", [
    pytest.param("    scopes: [summary, detail]\n  - code: CPR",
                 "    scopes: [summary, detail\n  - code: CPR", "  - code: CPR", id="bracket"),
    pytest.param("  - code: CVR\n    access_levels: [read]\n",
                 "  - code: CVR\n   access_levels: [read]\n",
                 "   access_levels: [read]\n    scopes: [summary]\n  - code: EIN", id="indent"),
    pytest.param("name_en: EU-øst effort", "name_en: 'EU-øst effort", None, id="quote"),
])
def test_policy_invalid_yaml_syntax_is_located(tmp_path, register, old, new, at):
    error, path, text = refused_policy(tmp_path, register, old, new)
    assert_located(error, path, line=line_of(text, at) if at else None,
                   says="is not valid YAML")
    assert error.line is not None


@pytest.mark.parametrize("content, says", [
    ("", "must be a mapping"),
    ("- id: eu-oest\n", "must be a mapping"),
])
def test_policy_document_that_is_not_a_mapping(tmp_path, register, content, says):
    path = tmp_path / "eu-oest.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        load_policy(path, register)
    assert_located(caught.value, path, says=says)


def test_policy_file_that_cannot_be_read(tmp_path, register):
    path = tmp_path / "missing.yaml"
    with pytest.raises(SourceError) as caught:
        load_policy(path, register)
    assert_located(caught.value, path, says="cannot be read")


def test_policy_is_checked_against_the_register_it_is_given(register):
    from dataclasses import replace
    people = dict(register.people)
    people["tko"] = replace(people["tko"], roles=frozenset({"requester"}))
    with pytest.raises(SourceError) as caught:
        load_policy(POLICY, replace(register, people=people))
    assert_located(caught.value, POLICY, entry="approvers[1]", field="username",
                   says="does not have the approver role")


# --------------------------------------------------------------------------- invalid principles

def _without_block(text: str, pid: str) -> str:
    start = text.index(f"  - id: {pid}\n")
    end = text.index("  - id: ", start + 1)
    return text[:start] + text[end:]


def test_principles_missing_principle(tmp_path):
    text = _without_block(PRINCIPLES.read_text(encoding="utf-8"), "P2")
    path = tmp_path / "principles.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        load_principles(path)
    assert_located(caught.value, path, field="principles",
                   says="principle P2 must appear exactly once (found 0 times)")


def test_principles_duplicated_principle(tmp_path):
    error, path, _ = refused_principles(tmp_path, "  - id: P2\n", "  - id: P1\n")
    assert_located(error, path, field="principles",
                   says="principle P1 must appear exactly once (found 2 times)")


@pytest.mark.parametrize("old, new, entry, field, at, says", [
    pytest.param("rule_codes: [NOT_ACKNOWLEDGED]", "rule_codes: [NOT_ACKNOWLEDGD]",
                 "principles[2] (P3)", "rule_codes", "rule_codes: [NOT_ACKNOWLEDGD]",
                 "unknown rule code 'NOT_ACKNOWLEDGD'; did you mean 'NOT_ACKNOWLEDGED'?",
                 id="unknown-rule-code"),
    pytest.param("rule_codes: [NOT_ACKNOWLEDGED]",
                 "rule_codes: [NOT_ACKNOWLEDGED, REVIEW_OVERDUE]", "principles[2] (P3)",
                 "rule_codes", "rule_codes: [NOT_ACKNOWLEDGED, REVIEW_OVERDUE]",
                 "rule code REVIEW_OVERDUE enforces P5, not P3", id="rule-code-wrong-principle"),
    pytest.param("  - id: P2\n", "  - id: P8\n", "principles[1]", "id", "id: P8",
                 "unknown principle 'P8'", id="unknown-principle"),
    pytest.param("    rule_codes: []\n", "    rule_codes: []\n    sumary_en: typo\n",
                 "principles[1] (P2)", "sumary_en", "sumary_en:",
                 "unknown key 'sumary_en'; did you mean 'summary_en'?", id="misspelt-key"),
    pytest.param("    summary_en: >-\n      Each employee's access is judged by the actual "
                 "work-related need, not by which\n      centre or department they belong to.\n",
                 "", "principles[1] (P2)", "summary_en", "  - id: P2", "is required",
                 id="missing-field"),
])
def test_invalid_principle_entry_is_located(tmp_path, old, new, entry, field, at, says):
    error, path, text = refused_principles(tmp_path, old, new)
    assert_located(error, path, entry=entry, field=field, line=line_of(text, at), says=says)


def test_principles_misspelt_top_level_key(tmp_path):
    error, path, text = refused_principles(tmp_path, "principles:\n", "principle:\n")
    assert_located(error, path, field="principle", line=line_of(text, "principle:"),
                   says="unknown key 'principle'; did you mean 'principles'?")


def test_principles_missing_top_level_key(tmp_path):
    error, path, _ = refused_principles(tmp_path, "principles:\n", "items:\n")
    assert_located(error, path, field="principles", says="is required")


def test_principles_duplicate_key_and_bad_yaml(tmp_path):
    error, path, text = refused_principles(tmp_path, "    title_en: Tasks, not",
                                           "    title_en: x\n    title_en: Tasks, not")
    assert_located(error, path, line=line_of(text, "title_en: Tasks"),
                   says="key 'title_en' appears twice")
    error, path, _ = refused_principles(tmp_path, "rule_codes: [REVIEW_OVERDUE]",
                                        "rule_codes: [REVIEW_OVERDUE")
    assert_located(error, path, says="is not valid YAML")
    assert error.line is not None


def test_a_date_is_not_text(tmp_path, register):
    # YAML reads an unquoted ISO date as a date; the reader must not pass it on as text.
    error, path, text = refused_policy(tmp_path, register,
                                       "decision: Direktionen 19-11-2024, sag 24/6364, punkt 2",
                                       "decision: 2024-11-19")
    assert_located(error, path, field="decision", line=line_of(text, "decision:"),
                   says="must be text, not the date 2024-11-19 (write it in quotes)")


# ------------------------------------------------------------- policy-wide consistency

@pytest.mark.parametrize("old, new, field, says", [
    pytest.param("  - health\n", "", "forbidden_categories",
                 "must forbid every special and criminal category (principle 7); missing: health",
                 id="p7-category-not-forbidden"),
    pytest.param("recurring_frequencies: [daily, weekly, monthly]", "recurring_frequencies: []",
                 "recurring_frequencies", "must name at least one frequency (principle 1",
                 id="no-recurring-frequency"),
    pytest.param("  - username: tko\n    name: Tina Koudal\n", "", "approvers",
                 "dual approval needs two named approvers (principle 4)",
                 id="dual-approval-with-one-approver"),
])
def test_policy_must_hold_together(tmp_path, register, old, new, field, says):
    error, path, _ = refused_policy(tmp_path, register, old, new)
    assert error.field == field
    assert says in str(error)


def test_a_named_approver_who_has_left_is_found(tmp_path):
    """With one of two approvers gone, write and detail access could never be approved."""
    import dataclasses
    from governance.domain.policy import leaving_approvers
    facts = read_seed(SEED).register_facts()
    policy = load_policy(POLICY, facts)
    assert leaving_approvers(policy, facts) is None
    people = {**facts.people, "tko": dataclasses.replace(facts.people["tko"], active=False)}
    left = leaving_approvers(policy, dataclasses.replace(facts, people=people))
    assert (left.entry, left.field) == ("approvers[1]", "username")
    assert "'tko' has left and cannot be a named approver" in str(left)


def test_an_area_of_a_system_outside_the_policy_is_refused(tmp_path, register):
    error, path, text = refused_policy(
        tmp_path, register, "  - code: SAPA\n    access_levels: [read]\n    scopes: [summary]\n",
        "")
    assert_located(error, path, entry="non_grantable_areas[4]", field="system",
                   line=line_of(text, "{system: SAPA, area: source_case_detail}"),
                   says="SAPA is not among the policy's systems")
