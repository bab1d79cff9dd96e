"""The policy model: the approved principles and a purpose policy, loaded from YAML."""
from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .register import AreaFacts, RegisterFacts
from .rules import RULE_PRINCIPLES
from .source import Entry, SourceError, read_yaml, unknown
from .vocabulary import AccessLevel, Frequency, Scope

PRINCIPLE_IDS = ("P1", "P2", "P3", "P4", "P5", "P6", "P7")
LEVELS = {level.value for level in AccessLevel}
SCOPES = {scope.value for scope in Scope}
FREQUENCIES = {frequency.value for frequency in Frequency}
# A policy id names the policy's versions in the register and each request's purpose: short
# lowercase letters, digits, '-' and '_'. The principles are kept under a name of their own.
POLICY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")
POLICY_ID_RULE = ("lowercase letters a-z, digits, '-' and '_', starting with a letter or "
                  "digit, at most 60 characters")
PRINCIPLES_NAME = "principles"


@dataclass(frozen=True)
class Principle:
    id: str
    title_da: str
    title_en: str
    text_da: str
    summary_en: str
    enforcement_da: str
    enforcement_en: str
    rule_codes: tuple[str, ...]


@dataclass(frozen=True)
class Approver:
    username: str
    name: str


@dataclass(frozen=True)
class SystemRule:
    """What a policy allows in one system."""

    code: str
    access_levels: tuple[str, ...]
    scopes: tuple[str, ...]
    review_interval_months: int


@dataclass(frozen=True)
class Policy:
    id: str
    name_da: str
    name_en: str
    decision: str
    approvers: tuple[Approver, ...]
    default_access_level: str
    dual_approval_levels: tuple[str, ...]
    dual_approval_scopes: tuple[str, ...]
    review_interval_months: int
    forbidden_categories: tuple[str, ...]
    recurring_frequencies: tuple[str, ...]
    min_tasks_chars: int
    min_justification_chars: int
    systems: dict[str, SystemRule]
    non_grantable: tuple[AreaFacts, ...]
    source_file: str = ""
    sha256: str = ""
    reminder_days: tuple[int, ...] = (30, 14, 3)
    escalate_after_days: int = 7
    # Off (None) by default: overdue access is flagged and escalated, not ended.
    expire_overdue_after_days: int | None = None

    @property
    def approver_usernames(self) -> tuple[str, ...]:
        return tuple(approver.username for approver in self.approvers)

    def needs_dual_approval(self, access_level: str, scope: str) -> bool:
        """Write access or detailed scope needs both approvers and a justification (P4)."""
        return access_level in self.dual_approval_levels or scope in self.dual_approval_scopes

    def approvals_needed(self, access_level: str, scope: str) -> int:
        return min(2, len(self.approvers)) if self.needs_dual_approval(access_level, scope) else 1

    def review_interval_for(self, system: str) -> int:
        rule = self.systems.get(system)
        return rule.review_interval_months if rule else self.review_interval_months


def allowed_in(policies: Iterable[Policy], code: str) -> tuple[set[str], set[str]] | None:
    """The access levels and scopes that any of the policies allows in system `code` (P4);
    None when none of them covers the system."""
    rules = [policy.systems[code] for policy in policies if code in policy.systems]
    if not rules:
        return None
    return ({level for rule in rules for level in rule.access_levels},
            {scope for rule in rules for scope in rule.scopes})


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_principles(path: Path, display_name: str | None = None) -> tuple[Principle, ...]:
    """Read principles.yaml: all seven principles, each tied to known rule codes."""
    name = display_name or str(path)
    document = Entry(name, "", read_yaml(path, name))
    items = document.required("principles", list)
    document.done()
    principles: list[Principle] = []
    for index, item in enumerate(items):
        entry = document.child("principles", item, f"principles[{index}]")
        pid = entry.choice("id", set(PRINCIPLE_IDS), "principle")
        entry.entry = f"principles[{index}] ({pid})"
        codes = entry.text_list("rule_codes", required=False, allowed=set(RULE_PRINCIPLES),
                                what="rule code")
        for code in codes:
            if RULE_PRINCIPLES[code] != pid:
                raise entry.error("rule_codes", f"rule code {code} enforces "
                                                f"{RULE_PRINCIPLES[code]}, not {pid}")
        principles.append(Principle(
            id=pid, title_da=entry.required("title_da"), title_en=entry.required("title_en"),
            text_da=entry.required("text_da"), summary_en=entry.required("summary_en"),
            enforcement_da=entry.required("enforcement_da"),
            enforcement_en=entry.required("enforcement_en"), rule_codes=tuple(codes)))
        entry.done()
    ids = [p.id for p in principles]
    for pid in PRINCIPLE_IDS:
        if ids.count(pid) != 1:
            raise SourceError(name, f"principle {pid} must appear exactly once "
                                    f"(found {ids.count(pid)} times)", field="principles")
    return tuple(sorted(principles, key=lambda p: p.id))


def load_policy(path: Path, register: RegisterFacts, display_name: str | None = None) -> Policy:
    """Read one purpose policy and check every name in it against the register."""
    name = display_name or str(path)
    doc = Entry(name, "", read_yaml(path, name))
    policy_id = doc.required("id")
    if not POLICY_ID.fullmatch(policy_id):
        raise doc.error("id", f"'{policy_id}' is not a policy id: {POLICY_ID_RULE}")
    if policy_id == PRINCIPLES_NAME:
        raise doc.error("id", f"'{policy_id}' is the name the register keeps the principles "
                              "under; give the policy another id")
    approvers = _approvers(doc, register)
    default_level = doc.choice("default_access_level", LEVELS, "access level")
    dual = doc.child("dual_approval", doc.required("dual_approval", dict), "dual_approval")
    dual_levels = dual.text_list("access_levels", allowed=LEVELS, what="access level")
    dual_scopes = dual.text_list("scopes", allowed=SCOPES, what="scope")
    dual.done()
    interval = _months(doc, "review_interval_months")
    need = doc.child("need_documentation", doc.required("need_documentation", dict),
                     "need_documentation")
    min_tasks = _positive(need, "min_tasks_chars")
    min_justification = _positive(need, "min_justification_chars")
    need.done()
    policy = Policy(
        id=policy_id, name_da=doc.required("name_da"), name_en=doc.required("name_en"),
        decision=doc.required("decision"), approvers=approvers,
        default_access_level=default_level, dual_approval_levels=tuple(dual_levels),
        dual_approval_scopes=tuple(dual_scopes), review_interval_months=interval,
        forbidden_categories=tuple(doc.text_list(
            "forbidden_categories", allowed=set(register.categories), what="data category")),
        recurring_frequencies=tuple(doc.text_list(
            "recurring_frequencies", allowed=FREQUENCIES, what="frequency")),
        min_tasks_chars=min_tasks, min_justification_chars=min_justification,
        systems=(systems := _systems(doc, register, interval)),
        non_grantable=_areas(doc, register, systems),
        source_file=name, sha256=file_digest(Path(path)), **_review(doc))
    doc.done()
    _check_principle_7(doc, policy, register)
    if not policy.recurring_frequencies:
        raise doc.error("recurring_frequencies", "must name at least one frequency "
                                                 "(principle 1: a need that recurs)")
    if "once" in policy.recurring_frequencies:
        raise doc.error("recurring_frequencies", "cannot count 'once' as recurring: a "
                                                 "one-off need goes to a contact person "
                                                 "(principles 1 and 6)")
    if (dual_levels or dual_scopes) and len(approvers) < 2:
        raise doc.error("approvers", "dual approval needs two named approvers (principle 4)")
    if default_level in dual_levels:
        raise doc.error("default_access_level", "the default level cannot be one that "
                                                "needs dual approval")
    return policy


def _check_principle_7(doc: Entry, policy: Policy, register: RegisterFacts) -> None:
    """Every special (art. 9) and criminal (art. 10) category must be forbidden."""
    sensitive = sorted(code for code, kind in register.categories.items()
                       if kind in ("special", "criminal"))
    missing = [code for code in sensitive if code not in policy.forbidden_categories]
    if missing:
        raise doc.error("forbidden_categories", f"must forbid every special and criminal "
                                                f"category (principle 7); missing: "
                                                f"{', '.join(missing)}")


def _review(doc: Entry) -> dict:
    """Optional P5 settings: reminders before the due date, escalation and expiry after."""
    value = doc.optional("review", dict)
    if value is None:
        return {}
    entry = doc.child("review", value, "review")
    days = entry.optional("reminder_days", list, [30, 14, 3])
    if not all(isinstance(d, int) and not isinstance(d, bool) and 0 < d <= 90 for d in days):
        raise entry.error("reminder_days", "must be a list of whole days between 1 and 90")
    escalate = entry.optional("escalate_after_days", int, 7)
    expire = entry.optional("expire_overdue_after_days", int)
    for field, number in (("escalate_after_days", escalate),
                          ("expire_overdue_after_days", expire)):
        if number is not None and not 1 <= number <= MAX_DAYS_AFTER_DUE:
            raise entry.error(field, f"must be between 1 and {MAX_DAYS_AFTER_DUE} days (P5: "
                                     f"a review at least once a year), not {number}")
    entry.done()
    return {"reminder_days": tuple(sorted(set(days), reverse=True)),
            "escalate_after_days": escalate, "expire_overdue_after_days": expire}


# Escalation and expiry come this many days after the due date at most; a need is
# described in at most this many characters at the least (the form takes 4,000).
MAX_DAYS_AFTER_DUE = 365
MAX_MINIMUM_CHARS = 1000


def _positive(entry: Entry, field: str) -> int:
    value = entry.required(field, int)
    if not 1 <= value <= MAX_MINIMUM_CHARS:
        raise entry.error(field, f"must be between 1 and {MAX_MINIMUM_CHARS} characters, "
                                 f"not {value}")
    return value


def _months(entry: Entry, field: str, default: int | None = None) -> int:
    value = entry.optional(field, int, default) if default else entry.required(field, int)
    if not 1 <= value <= 12:
        raise entry.error(field, f"must be between 1 and 12 months (P5: at least once a "
                                 f"year), not {value}")
    return value


def _approvers(doc: Entry, register: RegisterFacts) -> tuple[Approver, ...]:
    result = []
    for index, item in enumerate(doc.required("approvers", list)):
        entry = doc.child("approvers", item, f"approvers[{index}]")
        username = entry.required("username")
        person = register.people.get(username)
        if person is None:
            raise entry.error("username", unknown("employee", username, register.people))
        if "approver" not in person.roles:
            raise entry.error("username", f"employee '{username}' does not have the "
                                          f"approver role in {register.source}")
        written = entry.optional("name")
        if written and written != person.name:
            raise entry.error("name", f"'{written}' is not {username}: the register calls "
                                      f"{username} '{person.name}' (the name is read from the "
                                      "register; leave it out or write it the same)")
        entry.done()
        result.append(Approver(username=username, name=person.name))
    if not result:
        raise doc.error("approvers", "must name at least one approver (principle 4)")
    if len({a.username for a in result}) != len(result):
        raise doc.error("approvers", "names the same approver twice")
    return tuple(result)


def leaving_approvers(policy: Policy, register: RegisterFacts,
                      line_of=lambda username: None) -> SourceError | None:
    """A named approver who has left cannot decide (P4); with one of two gone, write and
    detail access could never be approved. Asked of a policy being checked or loaded anew,
    not of one already in force (the register goes on while the policy is changed).
    `line_of(username)` gives the line that names them, where the file can be read."""
    for index, approver in enumerate(policy.approvers):
        person = register.people.get(approver.username)
        if person is not None and not person.active:
            return SourceError(policy.source_file, f"employee '{approver.username}' has left "
                               "and cannot be a named approver (principle 4)",
                               entry=f"approvers[{index}]", field="username",
                               line=line_of(approver.username))
    return None


def _systems(doc: Entry, register: RegisterFacts, interval: int) -> dict[str, SystemRule]:
    systems: dict[str, SystemRule] = {}
    for index, item in enumerate(doc.required("systems", list)):
        entry = doc.child("systems", item, f"systems[{index}]")
        code = entry.required("code")
        facts = register.systems.get(code)
        if facts is None:
            raise entry.error("code", unknown("system", code, register.systems))
        entry.entry = f"systems[{index}] ({code})"
        if code in systems:
            raise entry.error("code", f"system {code} is listed twice")
        levels = entry.text_list("access_levels", allowed=set(facts.access_levels),
                                 what=f"access level for {code}")
        scopes = entry.text_list("scopes", allowed=set(facts.scopes), what=f"scope for {code}")
        months = _months(entry, "review_interval_months", interval)
        if months > interval:
            raise entry.error("review_interval_months", f"may be shorter than the policy's "
                                                        f"{interval} months, not longer")
        entry.done()
        systems[code] = SystemRule(code, tuple(levels), tuple(scopes), months)
    return systems


def _areas(doc: Entry, register: RegisterFacts, systems: dict) -> tuple[AreaFacts, ...]:
    areas = []
    for index, item in enumerate(doc.optional("non_grantable_areas", list, []) or []):
        entry = doc.child("non_grantable_areas", item, f"non_grantable_areas[{index}]")
        code = entry.required("system")
        facts = register.systems.get(code)
        if facts is None:
            raise entry.error("system", unknown("system", code, register.systems))
        if code not in systems:
            raise entry.error("system", f"{code} is not among the policy's systems, so "
                                        "nothing in it can be granted anyway; list it under "
                                        "'systems' or leave the area out")
        key = entry.required("area")
        if key not in facts.areas:
            raise entry.error("area", unknown(f"non-grantable area of {code}", key,
                                              facts.areas) if facts.areas else
                              f"system {code} has no non-grantable areas in the register")
        if facts.areas[key] in areas:
            raise entry.error("area", f"area '{key}' of {code} is listed twice")
        entry.done()
        areas.append(facts.areas[key])
    return tuple(areas)


def policy_to_dict(policy: Policy) -> dict:
    """A JSON-ready snapshot of a loaded policy, kept with the version in force."""
    return dataclasses.asdict(policy)


def policy_from_dict(data: dict) -> Policy:
    """Rebuild a policy from its snapshot, without re-checking it against today's register."""
    fields = dict(data)
    fields["approvers"] = tuple(Approver(**a) for a in data["approvers"])
    fields["systems"] = {code: SystemRule(**{**rule, "access_levels": tuple(rule["access_levels"]),
                                             "scopes": tuple(rule["scopes"])})
                         for code, rule in data["systems"].items()}
    fields["non_grantable"] = tuple(
        AreaFacts(**{**a, "scopes": tuple(a["scopes"]), "categories": tuple(a["categories"])})
        for a in data["non_grantable"])
    for name in ("dual_approval_levels", "dual_approval_scopes", "forbidden_categories",
                 "recurring_frequencies", "reminder_days"):
        if name in data:
            fields[name] = tuple(data[name])
    return Policy(**fields)


def principles_to_list(principles: tuple[Principle, ...]) -> list[dict]:
    return [dataclasses.asdict(p) for p in principles]


def principles_from_list(data: list[dict]) -> tuple[Principle, ...]:
    return tuple(Principle(**{**p, "rule_codes": tuple(p["rule_codes"])}) for p in data)
