"""Every branch of every rule in governance.domain.rules, on plain values.

The policy here is built by hand (see ``make_policy``) so that each test can see
exactly which systems, levels, scopes and areas it is checked against.
"""
from __future__ import annotations

import dataclasses
import inspect
from datetime import date

import pytest

from governance.domain import rules
from governance.domain.policy import Approver, Policy, SystemRule
from governance.domain.register import AreaFacts
from governance.domain.rules import (
    RULE_PRINCIPLES, Check, ExistingGrant, HeldAccess, ProposedRequest, acknowledgement_current,
    add_months, check_acknowledgement, check_areas, check_decider, check_duplicate,
    check_grantee_active, check_justification, check_need_documented, check_need_recurring,
    check_review, check_special_categories, check_system, evaluate_grant, evaluate_request,
    failures, review_due)

# --------------------------------------------------------------------------- helpers

CHILD_CASES = AreaFacts(
    system="ACADRE", key="child_cases",
    name_da="Sagsdetaljer i børnesager", name_en="Details of child-protection cases",
    contact="hvi", contact_name="Helle Vinther", contact_email="hvi@htk.dk",
    scopes=("detail",), categories=("family", "case_documents"))
PERSONNEL_CASES = AreaFacts(  # a category condition only, no scope condition
    system="ACADRE", key="personnel_cases", name_da="Personalesager",
    name_en="Personnel (HR) cases", contact="kvi", contact_name="Karen Villadsen",
    contact_email="kvi@htk.dk", categories=("employment",))
PROTECTED_PERSONS = AreaFacts(  # a scope condition only, no category condition
    system="CPR", key="protected_persons", name_da="Adressebeskyttede personer",
    name_en="Persons with protected addresses", contact="tbr", contact_name="Thomas Brandt",
    contact_email="tbr@htk.dk", scopes=("detail",))

POLICY_SYSTEMS = {
    "UIS": SystemRule("UIS", ("read",), ("summary", "detail"), 12),
    "CPR": SystemRule("CPR", ("read",), ("summary", "detail"), 12),
    "CVR": SystemRule("CVR", ("read",), ("summary",), 12),
    "ACADRE": SystemRule("ACADRE", ("read", "write"), ("summary", "detail"), 6),
}

GOOD_TASKS = "Kontrol af opholdsgrundlag for tilflyttede EU-borgere i sager om lovligt ophold."
GOOD_JUSTIFICATION = ("Taskforcen journaliserer selv sine kontrolsager i Acadre og skal "
                      "kunne skrive.")


def make_policy(**changes) -> Policy:
    """A small EU-øst-like policy; keyword arguments replace single fields."""
    fields = dict(
        id="eu-oest", name_da="EU-øst indsatsen", name_en="EU-øst effort",
        decision="Direktionen 19-11-2024",
        approvers=(Approver("kfi", "Klaus Fisker"), Approver("tko", "Tina Koudal")),
        default_access_level="read", dual_approval_levels=("write",),
        dual_approval_scopes=("detail",), review_interval_months=12,
        forbidden_categories=("ethnic_origin", "political_opinion", "religion", "trade_union",
                              "genetic", "biometric", "health", "sex_life", "criminal"),
        recurring_frequencies=("daily", "weekly", "monthly"),
        min_tasks_chars=40, min_justification_chars=30,
        systems=dict(POLICY_SYSTEMS),
        non_grantable=(CHILD_CASES, PERSONNEL_CASES, PROTECTED_PERSONS))
    fields.update(changes)
    return Policy(**fields)


def make_request(**changes) -> ProposedRequest:
    """A request that passes every rule under ``make_policy()``."""
    fields = dict(grantee="sjo", grantee_active=True, system="UIS", access_level="read",
                  scope="summary", purpose="eu-oest", tasks=GOOD_TASKS, frequency="weekly",
                  data_categories=("identity", "residence"), write_justification="")
    fields.update(changes)
    return ProposedRequest(**fields)


def only(checks: list[Check], code: str) -> Check:
    found = [check for check in checks if check.code == code]
    assert len(found) == 1, f"expected one {code} check, got {checks}"
    return found[0]


def assert_passed(check: Check, code: str) -> None:
    assert check.code == code
    assert check.passed is True
    assert check.principle == RULE_PRINCIPLES[code]
    assert check.message_da.strip() and check.message_en.strip()
    assert check.contact is None


def assert_refused(check: Check, code: str, principle: str, *details: str) -> None:
    """Refused with the given code and principle; both messages name every detail."""
    assert check.code == code
    assert check.passed is False
    assert check.principle == principle
    assert check.message_da.strip() and check.message_en.strip()
    for detail in details:
        assert detail in check.message_da, (detail, check.message_da)
        assert detail in check.message_en, (detail, check.message_en)


# --------------------------------------------------------------------------- Check itself

def test_check_principle_message_and_dict():
    check = Check("AREA_NOT_GRANTABLE", False, "dansk", "english", {"username": "hvi"})
    assert check.principle == "P6"
    assert check.message() == "dansk"
    assert check.message("da") == "dansk"
    assert check.message("en") == "english"
    assert check.as_dict("en") == {"code": "AREA_NOT_GRANTABLE", "principle": "P6",
                                   "passed": False, "message": "english",
                                   "contact": {"username": "hvi"}}
    assert "contact" not in Check("SPECIAL_CATEGORY", True, "a", "b").as_dict()


def test_failures_keeps_only_refusals_in_order():
    a, b = Check("NEED_UNDOCUMENTED", False, "a", "a"), Check("NEED_NOT_RECURRING", True, "b", "b")
    c = Check("SPECIAL_CATEGORY", False, "c", "c")
    assert failures([a, b, c]) == [a, c]
    assert failures([]) == []


def test_every_rule_code_names_a_known_principle():
    assert set(RULE_PRINCIPLES.values()) <= {"P1", "P3", "P4", "P5", "P6", "P7"}
    # P2 is enforced by what the rules do *not* look at (see the P2 tests below).
    assert "P2" not in RULE_PRINCIPLES.values()


# --------------------------------------------------------------------------- check_system (P4)

def test_system_not_in_policy_lists_the_systems_that_can_be_requested():
    checks = check_system(make_request(system="FASIT"), make_policy())
    assert len(checks) == 1
    assert_refused(checks[0], "SYSTEM_NOT_IN_POLICY", "P4", "FASIT", "ACADRE, CPR, CVR, UIS")
    assert "EU-øst indsatsen" in checks[0].message_da
    assert "EU-øst effort" in checks[0].message_en


def test_system_level_and_scope_allowed():
    checks = check_system(make_request(system="ACADRE", access_level="write", scope="detail"),
                          make_policy())
    assert [c.code for c in checks] == ["LEVEL_NOT_ALLOWED", "SCOPE_NOT_ALLOWED"]
    for check in checks:
        assert_passed(check, check.code)
        assert "ACADRE" in check.message_da and "ACADRE" in check.message_en


def test_system_level_refused_names_the_levels_to_choose():
    checks = check_system(make_request(system="CPR", access_level="write"), make_policy())
    level = only(checks, "LEVEL_NOT_ALLOWED")
    assert_refused(level, "LEVEL_NOT_ALLOWED", "P4", "CPR")
    assert "Skriveadgang" in level.message_da and "Vælg: læseadgang" in level.message_da
    assert "Write" in level.message_en and "Choose: read" in level.message_en
    assert_passed(only(checks, "SCOPE_NOT_ALLOWED"), "SCOPE_NOT_ALLOWED")


def test_system_scope_refused_names_the_scopes_allowed():
    checks = check_system(make_request(system="CVR", scope="detail"), make_policy())
    assert_passed(only(checks, "LEVEL_NOT_ALLOWED"), "LEVEL_NOT_ALLOWED")
    scope = only(checks, "SCOPE_NOT_ALLOWED")
    assert_refused(scope, "SCOPE_NOT_ALLOWED", "P4", "CVR")
    assert "sagsdetaljer" in scope.message_da
    assert "afgrænset til: overordnede oplysninger" in scope.message_da
    assert "'case detail'" in scope.message_en and "limited to: summary" in scope.message_en


def test_system_level_and_scope_both_refused():
    policy = make_policy(systems={"CVR": SystemRule("CVR", ("read",), ("summary",), 12)})
    checks = check_system(make_request(system="CVR", access_level="write", scope="detail"),
                          policy)
    assert [(c.code, c.passed) for c in checks] == [("LEVEL_NOT_ALLOWED", False),
                                                    ("SCOPE_NOT_ALLOWED", False)]


# --------------------------------------------------------------------------- need (P1)

@pytest.mark.parametrize("tasks", [GOOD_TASKS, "x" * 40, "  " + "x" * 40 + "\n"])
def test_need_documented_passes_at_the_minimum(tasks):
    assert_passed(check_need_documented(make_request(tasks=tasks), make_policy()),
                  "NEED_UNDOCUMENTED")


@pytest.mark.parametrize("tasks, written", [("", 0), ("   \n\t ", 0), ("Opslag", 6),
                                            ("x" * 39, 39), ("  " + "x" * 39 + "  ", 39)])
def test_need_undocumented_names_the_minimum_and_what_was_written(tasks, written):
    check = check_need_documented(make_request(tasks=tasks), make_policy())
    assert_refused(check, "NEED_UNDOCUMENTED", "P1", "40")
    assert f"der er skrevet {written})" in check.message_da
    assert f"{written} written" in check.message_en
    assert "mindst 40 tegn" in check.message_da and "at least 40 characters" in check.message_en


def test_need_documented_follows_the_policy_minimum():
    policy = make_policy(min_tasks_chars=10)
    assert check_need_documented(make_request(tasks="x" * 10), policy).passed
    check = check_need_documented(make_request(tasks="x" * 9), policy)
    assert_refused(check, "NEED_UNDOCUMENTED", "P1", "10")


@pytest.mark.parametrize("frequency", ["daily", "weekly", "monthly"])
def test_need_recurring_passes(frequency):
    check = check_need_recurring(make_request(frequency=frequency), make_policy())
    assert_passed(check, "NEED_NOT_RECURRING")
    assert frequency in check.message_en


@pytest.mark.parametrize("frequency, label_da", [("once", "én gang"), ("yearly", "årligt"),
                                                 ("quarterly", "kvartalsvis")])
def test_need_not_recurring_names_the_alternatives_and_points_to_p6(frequency, label_da):
    check = check_need_recurring(make_request(frequency=frequency), make_policy())
    assert_refused(check, "NEED_NOT_RECURRING", "P1")
    assert label_da in check.message_da
    assert "det skal opstå dagligt, ugentligt eller månedligt" in check.message_da
    assert "kontaktperson" in check.message_da and "princip 6" in check.message_da
    assert frequency in check.message_en
    assert "it must arise daily, weekly or monthly" in check.message_en
    assert "contact person" in check.message_en and "principle 6" in check.message_en


# --------------------------------------------------------------------------- justification (P4)

def test_justification_not_needed_for_read_summary():
    check = check_justification(make_request(access_level="read", scope="summary"),
                                make_policy())
    assert_passed(check, "WRITE_UNJUSTIFIED")


@pytest.mark.parametrize("level, scope", [("write", "summary"), ("read", "detail"),
                                          ("write", "detail")])
def test_justification_written_passes(level, scope):
    req = make_request(system="ACADRE", access_level=level, scope=scope,
                       write_justification=GOOD_JUSTIFICATION)
    check = check_justification(req, make_policy())
    assert_passed(check, "WRITE_UNJUSTIFIED")
    assert "begge godkendere" in check.message_da and "both approvers" in check.message_en


@pytest.mark.parametrize("level, scope, justification, written, label_da", [
    ("write", "summary", "", 0, "Skriveadgang med overordnede oplysninger"),
    ("read", "detail", "Fordi.", 6, "Læseadgang med sagsdetaljer"),
    ("write", "detail", "   " + "x" * 29 + "  ", 29, "Skriveadgang med sagsdetaljer"),
])
def test_justification_missing_or_short_is_refused(level, scope, justification, written,
                                                   label_da):
    req = make_request(system="ACADRE", access_level=level, scope=scope,
                       write_justification=justification)
    check = check_justification(req, make_policy())
    assert_refused(check, "WRITE_UNJUSTIFIED", "P4", "30")
    assert label_da in check.message_da
    assert f"der er skrevet {written})" in check.message_da
    assert f"{written} written" in check.message_en
    assert "begge godkendere" in check.message_da and "both approvers" in check.message_en


def test_justification_exactly_the_minimum_passes():
    req = make_request(system="ACADRE", access_level="write", write_justification="x" * 30)
    assert check_justification(req, make_policy()).passed


def test_justification_follows_the_policy_dual_approval_settings():
    policy = make_policy(dual_approval_levels=("write",), dual_approval_scopes=())
    req = make_request(system="ACADRE", access_level="read", scope="detail")
    assert check_justification(req, policy).passed


# --------------------------------------------------------------------------- areas (P6)

def test_area_without_scope_condition_touched_by_category():
    req = make_request(system="ACADRE", scope="summary", data_categories=("employment",))
    checks = check_areas(req, make_policy())
    assert len(checks) == 1
    check = checks[0]
    assert_refused(check, "AREA_NOT_GRANTABLE", "P6", "Karen Villadsen", "ACADRE")
    assert "Personalesager" in check.message_da
    assert "Personnel (HR) cases" in check.message_en
    assert check.contact == {"username": "kvi", "name": "Karen Villadsen",
                             "email": "kvi@htk.dk", "area": "personnel_cases"}


def test_area_with_scope_condition_only_touched_by_scope():
    checks = check_areas(make_request(system="CPR", scope="detail", data_categories=()),
                         make_policy())
    assert len(checks) == 1
    assert_refused(checks[0], "AREA_NOT_GRANTABLE", "P6", "Thomas Brandt", "CPR")
    assert "Kontakt Thomas Brandt" in checks[0].message_da
    assert "Contact Thomas Brandt" in checks[0].message_en
    assert checks[0].contact["area"] == "protected_persons"


def test_area_with_scope_and_categories_touched_by_both():
    req = make_request(system="ACADRE", scope="detail", data_categories=("case_documents",))
    checks = check_areas(req, make_policy())
    assert len(checks) == 1
    assert_refused(checks[0], "AREA_NOT_GRANTABLE", "P6", "Helle Vinther")
    assert "Sagsdetaljer i børnesager" in checks[0].message_da
    assert "Details of child-protection cases" in checks[0].message_en
    assert checks[0].contact["email"] == "hvi@htk.dk"


def test_each_touched_area_gives_its_own_refusal():
    req = make_request(system="ACADRE", scope="detail",
                       data_categories=("family", "employment"))
    checks = check_areas(req, make_policy())
    assert [(c.code, c.passed, c.contact["area"]) for c in checks] == [
        ("AREA_NOT_GRANTABLE", False, "child_cases"),
        ("AREA_NOT_GRANTABLE", False, "personnel_cases")]


@pytest.mark.parametrize("system, scope, categories", [
    ("UIS", "detail", ("family", "employment")),        # areas of other systems only
    ("ACADRE", "summary", ("family", "case_documents")),  # child cases need detail scope
    ("ACADRE", "detail", ("identity", "address")),        # no category of either area
    ("CPR", "summary", ("identity",)),                    # protected persons need detail
])
def test_area_not_touched(system, scope, categories):
    req = make_request(system=system, scope=scope, data_categories=categories)
    checks = check_areas(req, make_policy())
    assert len(checks) == 1
    assert_passed(checks[0], "AREA_NOT_GRANTABLE")


def test_area_without_any_condition_is_touched_by_every_request_to_its_system():
    whole = AreaFacts("CVR", "all", "Hele systemet", "The whole system", "ekj", "Eva Kjær")
    policy = make_policy(non_grantable=(whole,))
    refused = check_areas(make_request(system="CVR", data_categories=()), policy)
    assert_refused(refused[0], "AREA_NOT_GRANTABLE", "P6", "Eva Kjær")
    assert check_areas(make_request(system="UIS"), policy)[0].passed


def test_area_contact_falls_back_to_username_without_a_name():
    area = AreaFacts("CVR", "all", "Alt", "All", "ekj")
    check = check_areas(make_request(system="CVR"), make_policy(non_grantable=(area,)))[0]
    assert_refused(check, "AREA_NOT_GRANTABLE", "P6", "ekj")
    assert "Kontakt ekj" in check.message_da and "Contact ekj" in check.message_en
    assert check.contact == {"username": "ekj", "name": "", "email": "", "area": "all"}


def test_area_facts_touched_by():
    assert CHILD_CASES.touched_by("detail", {"family"})
    assert not CHILD_CASES.touched_by("summary", {"family"})
    assert not CHILD_CASES.touched_by("detail", {"identity"})
    assert not CHILD_CASES.touched_by("detail", set())
    assert PERSONNEL_CASES.touched_by("summary", {"employment"})
    assert PERSONNEL_CASES.touched_by("detail", {"employment", "identity"})
    assert not PERSONNEL_CASES.touched_by("detail", {"identity"})
    assert PROTECTED_PERSONS.touched_by("detail", set())
    assert not PROTECTED_PERSONS.touched_by("summary", {"address"})


# --------------------------------------------------------------------------- special (P7)

def test_special_categories_none():
    check = check_special_categories(make_request(data_categories=("identity", "cpr_number")),
                                     make_policy())
    assert_passed(check, "SPECIAL_CATEGORY")


def test_special_categories_empty_request():
    assert check_special_categories(make_request(data_categories=()), make_policy()).passed


@pytest.mark.parametrize("category, en", [
    ("health", "health"), ("religion", "religious or philosophical beliefs"), ("criminal", "criminal offences"),
    ("ethnic_origin", "ethnic origin"), ("sex_life", "sex life"),
])
def test_special_category_refused_names_the_category(category, en):
    check = check_special_categories(
        make_request(data_categories=("identity", category)), make_policy())
    assert_refused(check, "SPECIAL_CATEGORY", "P7")
    assert en in check.message_en
    assert "identity" not in check.message_en
    assert "princip 7" in check.message_da and "principle 7" in check.message_en
    assert "kan ikke godkendes af nogen" in check.message_da
    assert "nobody can approve" in check.message_en


def test_special_category_danish_message_uses_danish_words():
    check = check_special_categories(make_request(data_categories=("health", "criminal")),
                                     make_policy())
    assert ": helbredsoplysninger og strafbare forhold (art. 10)." in check.message_da
    assert ": health and criminal offences (art. 10)." in check.message_en


def test_special_category_follows_the_policy_list():
    policy = make_policy(forbidden_categories=("health",))
    assert check_special_categories(make_request(data_categories=("religion",)), policy).passed
    assert not check_special_categories(make_request(data_categories=("health",)),
                                         policy).passed


def test_a_category_the_policy_forbids_beyond_the_law_is_not_called_sensitive():
    policy = make_policy(forbidden_categories=(*make_policy().forbidden_categories, "income"))
    check = check_special_categories(make_request(data_categories=("income",)), policy)
    assert_refused(check, "SPECIAL_CATEGORY", "P7")
    assert "oplysninger, som politikken udelukker" in check.message_da
    assert "følsomme" not in check.message_da
    assert "data the policy excludes" in check.message_en
    both = check_special_categories(make_request(data_categories=("income", "health")), policy)
    assert "følsomme personoplysninger og oplysninger, som politikken udelukker" in \
        both.message_da


# --------------------------------------------------------------------------- grantee (P1)

def test_grantee_active():
    check = check_grantee_active(make_request(grantee="sjo", grantee_active=True))
    assert_passed(check, "GRANTEE_INACTIVE")
    assert "sjo" in check.message_da and "sjo" in check.message_en


def test_grantee_left():
    check = check_grantee_active(make_request(grantee="sjo", grantee_active=False))
    assert_refused(check, "GRANTEE_INACTIVE", "P1", "sjo")
    assert "fratrådt" in check.message_da and "has left" in check.message_en


def test_rule_lines_name_the_grantee_by_name_and_username():
    left = check_grantee_active(make_request(grantee="sjo", grantee_active=False,
                                             grantee_name="Sofie Jonsen"))
    assert left.message_da.startswith("Sofie Jonsen (sjo) er fratrådt")
    held = check_duplicate(make_request(system="UIS", grantee_name="Sofie Jonsen"),
                           [HeldAccess("UIS", "read", "summary")])
    assert held.message_en.startswith("Sofie Jonsen (sjo) already has an access to UIS")


# --------------------------------------------------------------------------- duplicate (P1)

def test_duplicate_nothing_held():
    assert_passed(check_duplicate(make_request(), []), "DUPLICATE_ACCESS")


def test_duplicate_same_access_active():
    check = check_duplicate(make_request(system="UIS", access_level="read", scope="summary"),
                            [HeldAccess("UIS", "read", "summary")])
    assert_refused(check, "DUPLICATE_ACCESS", "P1", "sjo", "UIS")
    assert "en adgang" in check.message_da and "an access" in check.message_en
    assert "læseadgang, overordnede oplysninger, aktiv" in check.message_da
    assert "read, summary, active" in check.message_en


@pytest.mark.parametrize("held_level, held_scope, level, scope", [
    ("write", "summary", "read", "summary"),   # write covers read
    ("read", "detail", "read", "summary"),     # detail covers summary
    ("write", "detail", "read", "summary"),
    ("write", "detail", "write", "detail"),
    ("write", "detail", "read", "detail"),
])
def test_duplicate_covered_by_broader_held_access(held_level, held_scope, level, scope):
    req = make_request(system="ACADRE", access_level=level, scope=scope)
    check = check_duplicate(req, [HeldAccess("ACADRE", held_level, held_scope)])
    assert_refused(check, "DUPLICATE_ACCESS", "P1", "ACADRE")


@pytest.mark.parametrize("held_level, held_scope, level, scope", [
    ("read", "summary", "write", "summary"),   # read does not cover write
    ("read", "summary", "read", "detail"),     # summary does not cover detail
    ("read", "detail", "write", "summary"),    # broader scope, narrower level
    ("write", "summary", "read", "detail"),    # broader level, narrower scope
])
def test_duplicate_narrower_held_access_does_not_count(held_level, held_scope, level, scope):
    req = make_request(system="ACADRE", access_level=level, scope=scope)
    assert_passed(check_duplicate(req, [HeldAccess("ACADRE", held_level, held_scope)]),
                  "DUPLICATE_ACCESS")


def test_duplicate_pending_request_wording():
    check = check_duplicate(make_request(), [HeldAccess("UIS", "read", "summary",
                                                        state="pending", request_id=7)])
    assert_refused(check, "DUPLICATE_ACCESS", "P1", "UIS")
    assert "en anmodning" in check.message_da and "afventer" in check.message_da
    assert "a request" in check.message_en and "pending" in check.message_en


def test_duplicate_approved_not_yet_active_counts_as_an_access():
    check = check_duplicate(make_request(), [HeldAccess("UIS", "read", "summary",
                                                        state="approved")])
    assert not check.passed
    assert "en adgang" in check.message_da and "godkendt" in check.message_da
    assert "an access" in check.message_en and "approved" in check.message_en


def test_duplicate_other_system_does_not_count():
    held = [HeldAccess("CPR", "read", "summary"), HeldAccess("ACADRE", "write", "detail")]
    assert_passed(check_duplicate(make_request(system="UIS"), held), "DUPLICATE_ACCESS")


def test_duplicate_found_among_several_held():
    held = [HeldAccess("CPR", "read", "summary"), HeldAccess("UIS", "read", "detail")]
    assert not check_duplicate(make_request(system="UIS"), iter(held)).passed


def test_held_access_covers():
    assert HeldAccess("X", "write", "detail").covers("read", "summary")
    assert HeldAccess("X", "read", "summary").covers("read", "summary")
    assert not HeldAccess("X", "read", "summary").covers("write", "summary")
    assert not HeldAccess("X", "read", "summary").covers("read", "detail")


# --------------------------------------------------------------------------- evaluate_request

REQUEST_CODES = ["LEVEL_NOT_ALLOWED", "SCOPE_NOT_ALLOWED", "NEED_UNDOCUMENTED",
                 "NEED_NOT_RECURRING", "WRITE_UNJUSTIFIED", "AREA_NOT_GRANTABLE",
                 "SPECIAL_CATEGORY", "GRANTEE_INACTIVE", "DUPLICATE_ACCESS"]


def test_evaluate_request_all_pass_in_a_stable_order():
    checks = evaluate_request(make_request(), make_policy())
    assert [c.code for c in checks] == REQUEST_CODES
    assert failures(checks) == []


def test_evaluate_request_reports_every_refusal():
    req = make_request(system="ACADRE", access_level="write", scope="detail", tasks="kort",
                       frequency="once", data_categories=("family", "health"),
                       grantee_active=False)
    checks = evaluate_request(req, make_policy(), [HeldAccess("ACADRE", "write", "detail")])
    assert [c.code for c in failures(checks)] == [
        "NEED_UNDOCUMENTED", "NEED_NOT_RECURRING", "WRITE_UNJUSTIFIED", "AREA_NOT_GRANTABLE",
        "SPECIAL_CATEGORY", "GRANTEE_INACTIVE", "DUPLICATE_ACCESS"]


def test_evaluate_request_for_a_system_outside_the_policy():
    checks = evaluate_request(make_request(system="FASIT"), make_policy())
    assert checks[0].code == "SYSTEM_NOT_IN_POLICY" and not checks[0].passed
    assert [c.code for c in failures(checks)] == ["SYSTEM_NOT_IN_POLICY"]


# --------------------------------------------------------------------------- P2

def test_p2_the_rules_take_no_centre():
    for dataclass_ in (ProposedRequest, ExistingGrant, HeldAccess):
        names = {f.name for f in dataclasses.fields(dataclass_)}
        assert not any("centre" in name or "center" in name for name in names), dataclass_
    for name, function in inspect.getmembers(rules, inspect.isfunction):
        if function.__module__ == rules.__name__:
            params = inspect.signature(function).parameters
            assert not any("centre" in p or "center" in p for p in params), name


@pytest.mark.parametrize("changes", [
    {},
    {"system": "ACADRE", "access_level": "write", "scope": "detail",
     "data_categories": ("family",), "frequency": "once"},
    {"system": "CPR", "scope": "detail", "tasks": "", "grantee_active": False},
])
def test_p2_same_request_for_people_in_different_centres_gives_the_same_result(changes):
    # sjo sits in SAC and ahn in ØAC: the rules cannot tell, and must not.
    policy = make_policy()
    held_sjo = [HeldAccess("CPR", "read", "summary")]
    held_ahn = [HeldAccess("CPR", "read", "summary")]
    sjo = evaluate_request(make_request(grantee="sjo", **changes), policy, held_sjo)
    ahn = evaluate_request(make_request(grantee="ahn", **changes), policy, held_ahn)

    def neutral(checks):
        return [(c.code, c.passed, c.principle, c.message_da.replace("sjo", "X"),
                 c.message_en.replace("sjo", "X"), c.contact) for c in checks]

    assert neutral(sjo) == [(code, passed, p, da.replace("ahn", "X"), en.replace("ahn", "X"),
                             contact) for code, passed, p, da, en, contact in neutral(ahn)]


# --------------------------------------------------------------------------- decider (P4)

@pytest.mark.parametrize("requester, grantee", [("kfi", "sjo"), ("sjo", "kfi"),
                                                ("kfi", "kfi")])
def test_decider_self_decision_refused(requester, grantee):
    checks = check_decider("kfi", requester, grantee, make_policy())
    assert [c.code for c in checks] == ["SELF_DECISION", "NOT_NAMED_APPROVER"]
    assert_refused(checks[0], "SELF_DECISION", "P4")
    assert "selv" in checks[0].message_da and "own access" in checks[0].message_en
    assert_passed(checks[1], "NOT_NAMED_APPROVER")


def test_decider_not_named_approver_names_the_approvers():
    checks = check_decider("dpo", "sjo", "sjo", make_policy())
    assert_passed(checks[0], "SELF_DECISION")
    assert_refused(checks[1], "NOT_NAMED_APPROVER", "P4", "Klaus Fisker", "Tina Koudal")
    assert "Klaus Fisker og Tina Koudal" in checks[1].message_da
    assert "Klaus Fisker and Tina Koudal" in checks[1].message_en
    assert "EU-øst indsatsen" in checks[1].message_da
    assert "EU-øst effort" in checks[1].message_en


@pytest.mark.parametrize("actor", ["kfi", "tko"])
def test_decider_named_approver_on_someone_elses_request(actor):
    checks = check_decider(actor, "sjo", "ahn", make_policy())
    assert_passed(checks[0], "SELF_DECISION")
    assert_passed(checks[1], "NOT_NAMED_APPROVER")


def test_decider_self_and_not_named_both_refused():
    checks = check_decider("sjo", "sjo", "sjo", make_policy())
    assert [(c.code, c.passed) for c in checks] == [("SELF_DECISION", False),
                                                    ("NOT_NAMED_APPROVER", False)]


def test_reviewing_ones_own_access_is_worded_as_a_review():
    checks = check_decider("kfi", "", "kfi", make_policy(), reviewing=True)
    assert_refused(checks[0], "SELF_DECISION", "P4")
    assert "revurdere din egen adgang" in checks[0].message_da
    assert "review your own access" in checks[0].message_en


@pytest.mark.parametrize("requester, grantee, level, scope, da, en", [
    # kfi files read access for tko: neither can decide; someone else filing lets kfi.
    ("kfi", "tko", "read", "summary", ["her kan ingen af dem afgøre den",
                                       "Lad en anden end Klaus Fisker indgive anmodningen."],
     ["neither of them can decide this one",
      "Let someone other than Klaus Fisker file the request."]),
    # kfi asks write access for himself: only tko is left, and write needs two.
    ("kfi", "kfi", "write", "summary", ["her kan kun Tina Koudal afgøre den",
                                        "Anmod i stedet om læseadgang"],
     ["only Tina Koudal can decide this one", "Instead, ask for read access"]),
    # kfi files write access for tko: someone else must file it, and ask for less.
    ("kfi", "tko", "write", "summary", ["her kan ingen af dem afgøre den",
                                        "Lad en anden end Klaus Fisker indgive anmodningen, "
                                        "og anmod om læseadgang"],
     ["neither of them can decide this one",
      "Let someone other than Klaus Fisker file the request, and ask for read access"]),
])
def test_too_few_approvers_says_who_is_left_and_what_would_help(requester, grantee, level,
                                                                 scope, da, en):
    check = rules.check_enough_approvers(
        requester, make_request(grantee=grantee, access_level=level, scope=scope),
        make_policy())
    assert_refused(check, "SELF_DECISION", "P4")
    for part in da:
        assert part in check.message_da, check.message_da
    for part in en:
        assert part in check.message_en, check.message_en
    assert "kun ingen" not in check.message_da


def test_too_few_approvers_with_one_named_approver_points_to_the_policy():
    policy = make_policy(approvers=(Approver("kfi", "Klaus Fisker"),))
    check = rules.check_enough_approvers("sjo", make_request(grantee="kfi"), policy)
    assert_refused(check, "SELF_DECISION", "P4")
    assert "navngiver endnu en godkender" in check.message_da
    assert "names another approver" in check.message_en


def test_a_named_approver_who_has_left_decides_nothing():
    policy = make_policy()
    away = {"tko": rules.AWAY_LEFT}
    read = rules.check_enough_approvers("sjo", make_request(grantee="sjo"), policy, away=away)
    assert read.passed
    assert "Klaus Fisker" in read.message_en and "Tina Koudal" not in read.message_en
    assert [a.username for a in rules.deciders(policy, "sjo", "sjo", away)] == ["kfi"]
    detail = rules.check_enough_approvers(
        "sjo", make_request(grantee="sjo", scope="detail"), policy, away=away)
    assert_refused(detail, "APPROVER_UNAVAILABLE", "P4")
    assert "Tina Koudal er fratrådt" in detail.message_da
    assert "Tina Koudal has left" in detail.message_en
    assert "name a new approver" in detail.message_en


def test_a_named_approver_without_the_role_decides_nothing():
    """The register took the approver role away: named in the policy, but not able to act,
    and the refusal says which of the two reasons holds for whom."""
    policy = make_policy()
    detail = rules.check_enough_approvers(
        "sjo", make_request(grantee="sjo", scope="detail"), policy,
        away={"tko": rules.AWAY_NO_ROLE})
    assert_refused(detail, "APPROVER_UNAVAILABLE", "P4")
    assert "Tina Koudal har ikke længere rollen som godkender" in detail.message_da
    assert "Tina Koudal no longer has the approver role" in detail.message_en
    both = rules.check_enough_approvers(
        "sjo", make_request(grantee="sjo"), policy,
        away={"tko": rules.AWAY_NO_ROLE, "kfi": rules.AWAY_LEFT})
    assert_refused(both, "APPROVER_UNAVAILABLE", "P4")
    assert ("Klaus Fisker has left and Tina Koudal no longer has the approver role"
            in both.message_en)
    refused = rules.failures(rules.check_decider("tko", "sjo", "sjo", policy,
                                                 approver_role=False))
    assert [c.code for c in refused] == ["NOT_NAMED_APPROVER"]
    assert "no longer gives you the approver role" in refused[0].message_en
    assert not rules.failures(rules.check_decider("tko", "sjo", "sjo", policy))


def test_two_approvals_are_spoken_of_as_both():
    check = rules.check_enough_approvers(
        "sjo", make_request(grantee="sjo", scope="detail"), make_policy())
    assert check.passed
    assert "both Klaus Fisker and Tina Koudal" in check.message_en
    assert "både Klaus Fisker og Tina Koudal" in check.message_da
    assert " or " not in check.message_en


# --------------------------------------------------------------------------- dates (P5)

@pytest.mark.parametrize("day, months, expected", [
    (date(2024, 11, 19), 12, date(2025, 11, 19)),
    (date(2024, 11, 19), 0, date(2024, 11, 19)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),    # clamped, leap year
    (date(2025, 1, 31), 1, date(2025, 2, 28)),    # clamped, common year
    (date(2024, 2, 29), 12, date(2025, 2, 28)),   # leap day, a year on
    (date(2024, 2, 29), 48, date(2028, 2, 29)),   # leap day, four years on
    (date(2024, 8, 31), 1, date(2024, 9, 30)),    # 30-day month
    (date(2024, 3, 31), 6, date(2024, 9, 30)),
    (date(2024, 12, 15), 1, date(2025, 1, 15)),   # year rollover
    (date(2024, 11, 30), 3, date(2025, 2, 28)),   # rollover and clamping
    (date(2024, 10, 31), 14, date(2025, 12, 31)),
    (date(2024, 1, 1), 24, date(2026, 1, 1)),
    (date(2024, 12, 31), 12, date(2025, 12, 31)),
    (date(2025, 3, 31), -1, date(2025, 2, 28)),   # backwards, too
    (date(2025, 1, 15), -1, date(2024, 12, 15)),
])
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize("since, interval, expected", [
    (date(2024, 11, 19), 12, date(2025, 11, 19)),
    (date(2024, 11, 19), 6, date(2025, 5, 19)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
])
def test_review_due(since, interval, expected):
    assert review_due(since, interval) == expected


@pytest.mark.parametrize("today", [date(2025, 1, 1), date(2025, 11, 18), date(2025, 11, 19)])
def test_review_not_overdue_up_to_and_on_the_due_day(today):
    check = check_review(date(2025, 11, 19), today)
    assert_passed(check, "REVIEW_OVERDUE")
    assert "2025-11-19" in check.message_da and "2025-11-19" in check.message_en


@pytest.mark.parametrize("today, days", [(date(2025, 11, 20), 1), (date(2025, 12, 19), 30),
                                         (date(2026, 11, 19), 365)])
def test_review_overdue_from_the_day_after_counts_days(today, days):
    check = check_review(date(2025, 11, 19), today)
    assert_refused(check, "REVIEW_OVERDUE", "P5", "2025-11-19")
    unit_da, unit_en = ("dag", "day") if days == 1 else ("dage", "days")
    assert f"overskredet med {days} {unit_da}." in check.message_da
    assert f"{days} {unit_en} overdue" in check.message_en


# --------------------------------------------------------------------------- acknowledgement (P3)

ACK = date(2024, 11, 19)


@pytest.mark.parametrize("acknowledged, today, current", [
    (None, date(2025, 1, 1), False),
    (ACK, ACK, True),                          # the same day
    (ACK, date(2025, 11, 18), True),           # the last day it holds
    (ACK, date(2025, 11, 19), False),          # exactly 12 months later: lapsed
    (ACK, date(2026, 1, 1), False),
    (ACK, date(2024, 11, 18), False),          # dated after today
    (date(2024, 2, 29), date(2025, 2, 27), True),
    (date(2024, 2, 29), date(2025, 2, 28), False),
])
def test_acknowledgement_current(acknowledged, today, current):
    assert acknowledgement_current(acknowledged, today) is current


def test_the_earliest_current_acknowledgement_agrees_with_the_rule_on_every_day():
    """The dashboard counts acknowledgements from this day on; over four years, leap days
    included, that is exactly the days acknowledgement_current accepts."""
    from datetime import timedelta
    from governance.domain.rules import earliest_current_acknowledgement
    today = date(2027, 12, 1)
    while today < date(2030, 1, 1):
        since = earliest_current_acknowledgement(today)
        for day in (since - timedelta(days=2), since - timedelta(days=1), since):
            assert acknowledgement_current(day, today) is (day >= since), (today, day)
        today += timedelta(days=1)
    # 29 February 2028 lapses on 28 February 2029: on that day it no longer counts.
    assert earliest_current_acknowledgement(date(2029, 2, 28)) == date(2028, 3, 1)


def test_acknowledgement_missing():
    check = check_acknowledgement(None, date(2025, 1, 1))
    assert_refused(check, "NOT_ACKNOWLEDGED", "P3")
    assert "ikke kvitteret" in check.message_da and "not been acknowledged" in check.message_en
    assert "Kvittér på siden Principper." in check.message_da
    assert "Acknowledge on the Principles page." in check.message_en


def test_acknowledgement_current_passes():
    check = check_acknowledgement(ACK, date(2025, 6, 1))
    assert_passed(check, "NOT_ACKNOWLEDGED")
    assert "2024-11-19" in check.message_da and "2024-11-19" in check.message_en


def test_acknowledgement_exactly_twelve_months_later_has_lapsed():
    check = check_acknowledgement(ACK, date(2025, 11, 19))
    assert_refused(check, "NOT_ACKNOWLEDGED", "P3", "2024-11-19")
    assert "udløbet" in check.message_da and "hvert år" in check.message_da
    assert "lapsed" in check.message_en and "every year" in check.message_en
    assert "Kvittér på siden Principper." in check.message_da
    assert "Acknowledge on the Principles page." in check.message_en


def test_acknowledgement_dated_in_the_future_is_not_current():
    check = check_acknowledgement(date(2025, 6, 1), date(2025, 5, 31))
    assert_refused(check, "NOT_ACKNOWLEDGED", "P3", "2025-06-01")


# --------------------------------------------------------------------------- evaluate_grant

TODAY = date(2025, 6, 1)
GRANT_CODES = ["LEVEL_NOT_ALLOWED", "SCOPE_NOT_ALLOWED", "AREA_NOT_GRANTABLE",
               "SPECIAL_CATEGORY", "GRANTEE_INACTIVE", "NOT_ACKNOWLEDGED"]


def make_grant(**changes) -> ExistingGrant:
    fields = dict(grantee="sjo", grantee_active=True, system="UIS", access_level="read",
                  scope="summary", data_categories=("identity", "residence"),
                  review_due=date(2025, 11, 19), acknowledged_on=date(2024, 11, 19))
    fields.update(changes)
    return ExistingGrant(**fields)


def test_evaluate_grant_with_review_due_all_pass():
    checks = evaluate_grant(make_grant(), make_policy(), TODAY)
    assert [c.code for c in checks] == GRANT_CODES + ["REVIEW_OVERDUE"]
    assert failures(checks) == []


def test_evaluate_grant_without_review_due_has_no_review_check():
    checks = evaluate_grant(make_grant(review_due=None), make_policy(), TODAY)
    assert [c.code for c in checks] == GRANT_CODES
    assert failures(checks) == []


def test_evaluate_grant_does_not_ask_for_tasks_or_frequency_again():
    codes = {c.code for c in evaluate_grant(make_grant(), make_policy(), TODAY)}
    assert not codes & {"NEED_UNDOCUMENTED", "NEED_NOT_RECURRING", "WRITE_UNJUSTIFIED",
                        "DUPLICATE_ACCESS"}


def test_evaluate_grant_reports_what_no_longer_holds():
    grant = make_grant(grantee_active=False, system="ACADRE", scope="detail",
                       data_categories=("case_documents", "health"),
                       review_due=date(2025, 5, 1), acknowledged_on=date(2024, 5, 1))
    policy = make_policy(systems={"ACADRE": SystemRule("ACADRE", ("read",), ("summary",), 6)})
    refused = [c.code for c in failures(evaluate_grant(grant, policy, TODAY))]
    assert refused == ["SCOPE_NOT_ALLOWED", "AREA_NOT_GRANTABLE", "SPECIAL_CATEGORY",
                       "GRANTEE_INACTIVE", "NOT_ACKNOWLEDGED", "REVIEW_OVERDUE"]


def test_evaluate_grant_for_a_system_the_policy_dropped():
    checks = evaluate_grant(make_grant(system="FASIT"), make_policy(), TODAY)
    assert [c.code for c in failures(checks)] == ["SYSTEM_NOT_IN_POLICY"]


# --------------------------------------------------------------------------- coverage of codes

def _every_check() -> list[Check]:
    policy = make_policy()
    produced: list[Check] = []
    for req in (make_request(),
                make_request(system="FASIT"),
                make_request(system="CVR", access_level="write", scope="detail", tasks="",
                             frequency="once", data_categories=("health",),
                             grantee_active=False),
                make_request(system="ACADRE", scope="detail",
                             data_categories=("family",))):
        produced += evaluate_request(req, policy, [HeldAccess(req.system, "write", "detail")])
        produced += evaluate_request(req, policy)
    produced += check_decider("kfi", "kfi", "sjo", policy)
    produced += check_decider("dpo", "sjo", "sjo", policy)
    produced += check_decider("kfi", "sjo", "sjo", policy)
    produced += [check_review(TODAY, TODAY), check_review(date(2025, 1, 1), TODAY),
                 check_acknowledgement(None, TODAY), check_acknowledgement(ACK, TODAY)]
    produced += evaluate_grant(make_grant(review_due=date(2025, 1, 1)), policy, TODAY)
    produced.append(rules.check_enough_approvers(
        "sjo", make_request(grantee="sjo", scope="detail"), policy,
        away={"tko": rules.AWAY_LEFT}))
    return produced


def test_every_rule_code_is_produced_by_some_rule():
    produced = _every_check()
    assert {c.code for c in produced} == set(RULE_PRINCIPLES)
    assert {c.code for c in produced if not c.passed} == set(RULE_PRINCIPLES)
    # Every code except SYSTEM_NOT_IN_POLICY also reports a pass; a system in the
    # policy is shown by its level and scope checks instead, and enough approvers able to
    # act by SELF_DECISION's pass.
    assert {c.code for c in produced if c.passed} == set(RULE_PRINCIPLES) - {
        "SYSTEM_NOT_IN_POLICY", "APPROVER_UNAVAILABLE"}


def test_every_produced_check_has_both_messages_and_a_principle():
    for check in _every_check():
        assert check.principle == RULE_PRINCIPLES[check.code]
        assert check.message_da.strip() and check.message_en.strip()
        assert check.message_da != check.message_en


def test_every_vocabulary_word_has_a_danish_and_an_english_label():
    from governance.domain.vocabulary import LABELS_DA, LABELS_EN, SPECIAL_CATEGORIES
    assert set(LABELS_DA) == set(LABELS_EN)
    for category in (*SPECIAL_CATEGORIES, "criminal"):
        assert LABELS_DA[category] != category and LABELS_EN[category]


def test_grant_evaluator_agrees_with_evaluate_grant():
    """The fast path for many grants finds exactly the failures of the full evaluation."""
    from itertools import product

    from governance.domain.rules import ExistingGrant, GrantEvaluator, evaluate_grant
    policy = make_policy()
    today = date(2026, 11, 23)
    evaluator = GrantEvaluator(policy, today)
    combos = product(["UIS", "ACADRE", "CPR", "NOPE"], ["read", "write"], ["summary", "detail"],
                     [(), ("health",), ("family",)], [True, False],
                     [None, date(2026, 1, 1), date(2025, 1, 1)],
                     [None, date(2026, 12, 1), date(2026, 11, 1)])
    for system, level, scope, categories, active, acked, due in combos:
        grant = ExistingGrant("ahn", active, system, level, scope, categories, due, acked)
        slow = [(c.code, c.message_en) for c in evaluate_grant(grant, policy, today)
                if not c.passed]
        fast = [(c.code, c.message_en) for c in evaluator.findings(grant)]
        assert sorted(fast) == sorted(slow), (system, level, scope, categories, active)


def test_criminal_offence_data_is_named_for_what_it_is_not_as_a_special_category():
    from governance.domain.vocabulary import CRIMINAL_CATEGORY
    policy = make_policy()
    only_criminal = check_special_categories(
        make_request(data_categories=(CRIMINAL_CATEGORY,)), policy)
    assert not only_criminal.passed
    assert "strafbare forhold" in only_criminal.message_da
    assert "følsomme" not in only_criminal.message_da
    assert "criminal-offence data" in only_criminal.message_en
    both = check_special_categories(
        make_request(data_categories=("health", CRIMINAL_CATEGORY)), policy)
    assert "følsomme personoplysninger og oplysninger om strafbare forhold" in both.message_da


def test_every_rule_has_a_name_in_both_languages():
    from governance.domain.vocabulary import RULE_NAMES, rule_name
    assert set(RULE_NAMES) == set(rules.RULE_PRINCIPLES)
    assert all(rule_name(code, "da") and rule_name(code, "en") != code for code in RULE_NAMES)



def test_three_approvers_are_spoken_of_as_two_of_three():
    """Another municipality names three: a dual approval is two of them, not 'both', and the
    names read 'A, B og C'."""
    policy = make_policy(approvers=(Approver("hbj", "Hanne Bjerre"),
                                    Approver("lka", "Lone Kallesøe"),
                                    Approver("pkr", "Pernille Krogh")))
    detail = make_request(scope="detail", write_justification="x" * 40)
    justified = rules.check_justification(detail, policy)
    assert "to af godkenderne skal godkende" in justified.message_da
    assert "two of the approvers must approve" in justified.message_en
    assert "begge" not in justified.message_da
    enough = rules.check_enough_approvers("sjo", detail, policy)
    assert "Hanne Bjerre, Lone Kallesøe og Pernille Krogh" in enough.message_da
    assert "two of Hanne Bjerre, Lone Kallesøe and Pernille Krogh" in enough.message_en
    away = rules.check_enough_approvers("sjo", detail, policy,
                                        away={"hbj": rules.AWAY_LEFT, "lka": rules.AWAY_LEFT})
    assert "to navngivne godkendere (Hanne Bjerre, Lone Kallesøe og Pernille Krogh)" in \
        away.message_da
    unjustified = rules.check_justification(make_request(scope="detail"), policy)
    assert "godkendelse af to af godkenderne" in unjustified.message_da


def test_a_special_category_refusal_asks_to_remove_one_category_or_several():
    policy = make_policy()
    one = rules.check_special_categories(make_request(data_categories=("health",)), policy)
    two = rules.check_special_categories(make_request(data_categories=("health", "religion")),
                                         policy)
    assert one.message_da.endswith("Fjern kategorien.") and one.message_en.endswith(
        "Remove the category.")
    assert two.message_da.endswith("Fjern kategorierne.") and two.message_en.endswith(
        "Remove the categories.")
