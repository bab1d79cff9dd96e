"""The rules that apply a policy: each names the principle it enforces and says why."""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from functools import lru_cache
from datetime import date, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Iterable, Mapping

from .vocabulary import CRIMINAL_CATEGORY, SPECIAL_CATEGORIES, label

if TYPE_CHECKING:
    from .policy import Policy

# Every stable rule code and the principle it enforces.
RULE_PRINCIPLES = {
    "NEED_UNDOCUMENTED": "P1",
    "NEED_NOT_RECURRING": "P1",
    "GRANTEE_INACTIVE": "P1",
    "DUPLICATE_ACCESS": "P1",
    "NOT_ACKNOWLEDGED": "P3",
    "SYSTEM_NOT_IN_POLICY": "P4",
    "LEVEL_NOT_ALLOWED": "P4",
    "SCOPE_NOT_ALLOWED": "P4",
    "WRITE_UNJUSTIFIED": "P4",
    "SELF_DECISION": "P4",
    "NOT_NAMED_APPROVER": "P4",
    "APPROVER_UNAVAILABLE": "P4",
    "REVIEW_OVERDUE": "P5",
    "AREA_NOT_GRANTABLE": "P6",
    "SPECIAL_CATEGORY": "P7",
}
ACKNOWLEDGEMENT_VALID_MONTHS = 12
# The grantee is asked to acknowledge again this many days before the year lapses (P3).
ACKNOWLEDGEMENT_RENEW_DAYS = 30
_LEVEL_RANK = {"read": 0, "write": 1}
_SCOPE_RANK = {"summary": 0, "detail": 1}


@dataclass(frozen=True)
class Check:
    """The result of one rule: passed, or a refusal a person can act on."""

    code: str
    passed: bool
    message_da: str
    message_en: str
    contact: dict | None = None

    @property
    def principle(self) -> str:
        return RULE_PRINCIPLES[self.code]

    def message(self, locale: str = "da") -> str:
        return self.message_en if locale == "en" else self.message_da

    def as_dict(self, locale: str = "da") -> dict:
        result = {"code": self.code, "principle": self.principle, "passed": self.passed,
                  "message": self.message(locale)}
        if self.contact:
            result["contact"] = self.contact
        return result


def failures(checks: Iterable[Check]) -> list[Check]:
    return [check for check in checks if not check.passed]


@dataclass(frozen=True)
class ProposedRequest:
    """What a requester asks for, as plain values; the grantee's centre plays no part (P2)."""

    grantee: str
    grantee_active: bool
    system: str
    access_level: str
    scope: str
    purpose: str
    tasks: str
    frequency: str
    data_categories: tuple[str, ...] = ()
    write_justification: str = ""
    grantee_name: str = ""

    @property
    def who(self) -> str:
        """The grantee as a rule line names them: 'Anne Holm Nielsen (ahn)'."""
        return f"{self.grantee_name} ({self.grantee})" if self.grantee_name else self.grantee


@dataclass(frozen=True)
class HeldAccess:
    """An access the grantee already has or has asked for (pending, approved or active)."""

    system: str
    access_level: str
    scope: str
    state: str = "active"
    request_id: int | None = None

    def covers(self, access_level: str, scope: str) -> bool:
        return (_LEVEL_RANK.get(self.access_level, 0) >= _LEVEL_RANK.get(access_level, 0)
                and _SCOPE_RANK.get(self.scope, 0) >= _SCOPE_RANK.get(scope, 0))


def _ok(code: str, da: str, en: str) -> Check:
    return Check(code, True, da, en)


def _refuse(code: str, da: str, en: str, contact: dict | None = None) -> Check:
    return Check(code, False, da, en, contact)


def check_system(req: ProposedRequest, policy: "Policy") -> list[Check]:
    """P4: only systems, levels and scopes the policy names can be granted."""
    rule = policy.systems.get(req.system)
    if rule is None:
        allowed = ", ".join(sorted(policy.systems))
        return [_refuse("SYSTEM_NOT_IN_POLICY",
                        f"{req.system} er ikke omfattet af politikken '{policy.name_da}'. "
                        f"Der kan søges om: {allowed}.",
                        f"{req.system} is not covered by the policy '{policy.name_en}'. "
                        f"Access can be requested to: {allowed}.")]
    checks = []
    if req.access_level in rule.access_levels:
        checks.append(_ok("LEVEL_NOT_ALLOWED",
                          f"{label(req.access_level).capitalize()} til {req.system} kan "
                          f"bevilges.",
                          f"{req.access_level.capitalize()} access to {req.system} can be "
                          f"granted."))
    else:
        allowed_da = ", ".join(label(level) for level in rule.access_levels)
        checks.append(_refuse(
            "LEVEL_NOT_ALLOWED",
            f"{label(req.access_level).capitalize()} til {req.system} kan ikke bevilges "
            f"efter politikken. Vælg: {allowed_da}.",
            f"{req.access_level.capitalize()} access to {req.system} cannot be granted under "
            f"the policy. "
            f"Choose: {', '.join(rule.access_levels)}."))
    if req.scope in rule.scopes:
        checks.append(_ok("SCOPE_NOT_ALLOWED",
                          f"Omfanget '{label(req.scope)}' er tilladt i {req.system}.",
                          f"The scope '{label(req.scope, 'en')}' is allowed in {req.system}."))
    else:
        allowed_da = ", ".join(label(scope) for scope in rule.scopes)
        checks.append(_refuse(
            "SCOPE_NOT_ALLOWED",
            f"Omfanget '{label(req.scope)}' kan ikke bevilges i {req.system}; adgangen er "
            f"afgrænset til: {allowed_da}.",
            f"The scope '{label(req.scope, 'en')}' cannot be granted in {req.system}; access "
            f"is limited to: {', '.join(label(scope, 'en') for scope in rule.scopes)}."))
    return checks


def check_need_documented(req: ProposedRequest, policy: "Policy") -> Check:
    """P1: access only on a documented, work-related need."""
    written = len(req.tasks.strip())
    if written >= policy.min_tasks_chars:
        return _ok("NEED_UNDOCUMENTED", "Arbejdsopgaverne er beskrevet.",
                   "The work tasks are described.")
    return _refuse(
        "NEED_UNDOCUMENTED",
        f"Beskriv de konkrete arbejdsopgaver, der kræver adgangen (mindst "
        f"{policy.min_tasks_chars} tegn; der er skrevet {written}).",
        f"Describe the concrete work tasks that need this access (at least "
        f"{policy.min_tasks_chars} characters; {written} written).")


def check_need_recurring(req: ProposedRequest, policy: "Policy",
                         owner: dict | None = None) -> Check:
    """P1: the need must recur with some frequency; a one-off need goes to P6, to the
    person responsible for the system (`owner`: username, name, email) where it is known."""
    if req.frequency in policy.recurring_frequencies:
        return _ok("NEED_NOT_RECURRING",
                   f"Behovet opstår {label(req.frequency)} og er dermed løbende.",
                   f"The need arises {label(req.frequency, 'en')}: a recurring need.")
    recurring_da = _either([label(f) for f in policy.recurring_frequencies], " eller ")
    recurring_en = _either([label(f, "en") for f in policy.recurring_frequencies], " or ")
    if owner:
        who = f"{owner['name']} ({owner['email']})" if owner.get("email") else owner["name"]
        ask_da = f"Bed i stedet kontaktpersonen {who}, der er ansvarlig for {req.system}, om"
        ask_en = f"Ask the contact person {who}, who is responsible for {req.system}, to"
    else:
        ask_da, ask_en = "Bed i stedet områdets kontaktperson om", "Ask the area's contact person to"
    return _refuse(
        "NEED_NOT_RECURRING",
        f"Et behov, der opstår {label(req.frequency)}, er ikke løbende (det skal opstå "
        f"{recurring_da}). {ask_da} at trække eller dele oplysningerne (princip 6).",
        f"A need that arises {label(req.frequency, 'en')} is not recurring (it must arise "
        f"{recurring_en}). {ask_en} retrieve or share the information instead "
        f"(principle 6).", owner)


def _either(words: list[str], last: str) -> str:
    """'dagligt, ugentligt eller månedligt'."""
    return ", ".join(words[:-1]) + last + words[-1] if len(words) > 1 else "".join(words)


def check_justification(req: ProposedRequest, policy: "Policy") -> Check:
    """P4: write access or detailed scope needs a written justification."""
    if not policy.needs_dual_approval(req.access_level, req.scope):
        return _ok("WRITE_UNJUSTIFIED", "Læseadgang med overordnede oplysninger kræver ingen "
                                        "særlig begrundelse.",
                   "Read access to summary data needs no extra justification.")
    written = len(req.write_justification.strip())
    if written >= policy.min_justification_chars:
        return _ok("WRITE_UNJUSTIFIED", "Begrundelsen for skriveadgang/sagsdetaljer er "
                                        f"skrevet; {_two_da(policy)} skal godkende.",
                   "The justification for write access/case detail is written; "
                   f"{_two_en(policy)} must approve.")
    return _refuse(
        "WRITE_UNJUSTIFIED",
        f"{label(req.access_level).capitalize()} med {label(req.scope)} kræver en skriftlig "
        f"begrundelse (mindst {policy.min_justification_chars} tegn; der er skrevet "
        f"{written}) og godkendelse af {_two_da(policy)}.",
        f"{req.access_level.capitalize()} access with {req.scope} scope needs a written "
        f"justification "
        f"(at least {policy.min_justification_chars} characters; {written} written) and "
        f"the approval of {_two_en(policy)}.")


def _two_da(policy: "Policy") -> str:
    """Who gives a dual approval: both approvers, or two of more."""
    return "begge godkendere" if len(policy.approvers) <= 2 else "to af godkenderne"


def _two_en(policy: "Policy") -> str:
    return "both approvers" if len(policy.approvers) <= 2 else "two of the approvers"


def check_areas(req: ProposedRequest, policy: "Policy") -> list[Check]:
    """P6: areas that cannot be granted; the owning area's contact person helps instead."""
    categories = set(req.data_categories)
    checks = []
    for area in policy.non_grantable:
        if area.system != req.system or not area.touched_by(req.scope, categories):
            continue
        if not area.contact:
            checks.append(_refuse(
                "AREA_NOT_GRANTABLE",
                f"Der kan ikke gives adgang til '{area.name_da}' i {area.system}, og området "
                "har ingen kontaktperson lige nu (den navngivne er fratrådt). Bed "
                "databeskyttelsesrådgiveren eller administratoren om at udpege en.",
                f"Access to '{area.name_en}' in {area.system} cannot be granted, and the area "
                "has no contact person at present (the one named has left). Ask the DPO or "
                "the administrator to name one."))
            continue
        who = area.contact_name or area.contact
        contact = {"username": area.contact, "name": area.contact_name,
                   "email": area.contact_email, "area": area.key}
        checks.append(_refuse(
            "AREA_NOT_GRANTABLE",
            f"Der kan ikke gives adgang til '{area.name_da}' i {area.system}. Kontakt "
            f"{who}, som kan trække eller dele de nødvendige oplysninger.",
            f"Access to '{area.name_en}' in {area.system} cannot be granted. Contact "
            f"{who}, who can retrieve or share the information needed.", contact))
    if not checks:
        checks.append(_ok("AREA_NOT_GRANTABLE", "Anmodningen berører ingen områder, der ikke "
                                                "kan gives adgang til.",
                          "The request touches no area that cannot be granted."))
    return checks


def check_special_categories(req: ProposedRequest, policy: "Policy") -> Check:
    """P7: special categories (art. 9) and criminal data are never searched."""
    forbidden = [c for c in req.data_categories if c in policy.forbidden_categories]
    names_da = _either([label(c) for c in forbidden], " og ")
    names_en = _either([label(c, "en") for c in forbidden], " and ")
    if not forbidden:
        return _ok("SPECIAL_CATEGORY", "Anmodningen omfatter ingen følsomme personoplysninger.",
                   "The request includes no special categories of personal data.")
    # Criminal-offence data (art. 10) is not a special category (art. 9); the policy
    # treats it like one, and the message names it for what it is.
    # A policy may forbid more than the law's categories; those are named as the policy's.
    criminal = CRIMINAL_CATEGORY in forbidden
    special = any(c in SPECIAL_CATEGORIES for c in forbidden)
    other = any(c not in SPECIAL_CATEGORIES and c != CRIMINAL_CATEGORY for c in forbidden)
    what_da = " og ".join(w for w, present in (("følsomme personoplysninger", special),
                                                ("oplysninger om strafbare forhold",
                                                 criminal),
                                                ("oplysninger, som politikken udelukker",
                                                 other)) if present)
    what_en = " and ".join(w for w, present in (("special categories of personal data",
                                                  special),
                                                 ("criminal-offence data", criminal),
                                                 ("data the policy excludes", other))
                           if present)
    return _refuse(
        "SPECIAL_CATEGORY",
        f"Anmodningen omfatter {what_da}: {names_da}. Der søges "
        f"aldrig efter sådanne oplysninger (princip 7), og anmodningen kan ikke godkendes af "
        f"nogen. {'Fjern kategorierne' if len(forbidden) > 1 else 'Fjern kategorien'}.",
        f"The request includes {what_en}: {names_en}. "
        f"They are never searched (principle 7), and nobody can approve the request. "
        f"{'Remove the categories' if len(forbidden) > 1 else 'Remove the category'}.")


def check_grantee_active(req: ProposedRequest) -> Check:
    """A person who has left has no work tasks, so no need (P1)."""
    if req.grantee_active:
        return _ok("GRANTEE_INACTIVE", f"{req.who} er aktiv medarbejder.",
                   f"{req.who} is an active employee.")
    return _refuse("GRANTEE_INACTIVE",
                   f"{req.who} er fratrådt og kan ikke få adgang.",
                   f"{req.who} has left and cannot be given access.")


def check_duplicate(req: ProposedRequest, held: Iterable[HeldAccess]) -> Check:
    """No second access where one that covers the need already exists or is asked for (P1)."""
    for access in held:
        if access.system == req.system and access.covers(req.access_level, req.scope):
            what_da = "en anmodning" if access.state == "pending" else "en adgang"
            what_en = "a request" if access.state == "pending" else "an access"
            return _refuse(
                "DUPLICATE_ACCESS",
                f"{req.who} har allerede {what_da} til {req.system} "
                f"({label(access.access_level)}, {label(access.scope)}, "
                f"{label(access.state)}), som dækker behovet.",
                f"{req.who} already has {what_en} to {req.system} ({access.access_level}, "
                f"{access.scope}, {access.state}) that covers the need.")
    return _ok("DUPLICATE_ACCESS", f"{req.who} har ikke allerede adgangen.",
               f"{req.who} does not already have this access.")


def evaluate_request(req: ProposedRequest, policy: "Policy",
                     held: Iterable[HeldAccess] = (), owner: dict | None = None) -> list[Check]:
    """Every rule result for a proposed request, in a stable order; `owner` is the person
    responsible for the system, whom a one-off need is pointed to."""
    return [
        *check_system(req, policy),
        check_need_documented(req, policy),
        check_need_recurring(req, policy, owner),
        check_justification(req, policy),
        *check_areas(req, policy),
        check_special_categories(req, policy),
        check_grantee_active(req),
        check_duplicate(req, held),
    ]


# Why a named approver cannot act now (the values of `away`): they left, or the register no
# longer gives them the approver role.
AWAY_LEFT, AWAY_NO_ROLE = "left", "no_role"
NOBODY_AWAY: Mapping[str, str] = MappingProxyType({})


def deciders(policy: "Policy", requester: str, grantee: str,
             away: Mapping[str, str] = NOBODY_AWAY) -> list:
    """The named approvers who may decide a request: neither its requester nor its
    grantee (P4), nor someone who cannot act now (`away`: username -> AWAY_LEFT or
    AWAY_NO_ROLE)."""
    return [a for a in policy.approvers
            if a.username not in (requester, grantee) and a.username not in away]


def _names(approvers, joiner: str) -> str:
    """'Klaus Fisker og Tina Koudal'; with three, 'A, B og C'."""
    names = [a.name for a in approvers]
    return ", ".join(names[:-1]) + joiner + names[-1] if len(names) > 1 else "".join(names)


def check_enough_approvers(requester: str, req: ProposedRequest, policy: "Policy",
                           away: Mapping[str, str] = NOBODY_AWAY) -> Check:
    """P4: the approvals the request needs must be possible without anyone deciding a
    request they made or that concerns them, and without a named approver who cannot act
    now (`away`, as for `deciders`)."""
    needed = policy.approvals_needed(req.access_level, req.scope)
    able = deciders(policy, requester, req.grantee, away)
    if len(able) >= needed:
        if needed > 1:
            both_da = "både" if len(able) == needed else "to af"
            both_en = "both" if len(able) == needed else "two of"
            return _ok("SELF_DECISION",
                       f"Skal godkendes af {both_da} {_names(able, ' og ')}, som hverken har "
                       "indgivet anmodningen eller får adgangen.",
                       f"Needs the approval of {both_en} {_names(able, ' and ')}, who neither "
                       "made the request nor receive the access.")
        return _ok("SELF_DECISION",
                   f"Kan afgøres af {_names(able, ' eller ')}, som hverken har "
                   "indgivet anmodningen eller får adgangen.",
                   f"Can be decided by {_names(able, ' or ')}, who neither made "
                   "the request nor receives the access.")
    all_da = _names(policy.approvers, " og ")
    all_en = _names(policy.approvers, " and ")
    two = len(policy.approvers) <= 2
    need_da = (("begge navngivne godkendere" if two else "to navngivne godkendere")
               if needed > 1 else "en navngiven godkender")
    need_en = (("both named approvers" if two else "two named approvers")
               if needed > 1 else "one named approver")
    who_da = (f"her kan kun {_names(able, ' og ')} afgøre den" if able
              else "her kan ingen af dem afgøre den")
    who_en = (f"only {_names(able, ' and ')} can decide this one" if able
              else "neither of them can decide this one")
    gone = [a for a in policy.approvers if a.username in away]
    if gone:
        left = [a for a in gone if away[a.username] == AWAY_LEFT]
        unroled = [a for a in gone if away[a.username] != AWAY_LEFT]
        why_da, why_en = [], []
        if left:
            why_da.append(f"{_names(left, ' og ')} er fratrådt")
            why_en.append(f"{_names(left, ' and ')} {'have' if len(left) > 1 else 'has'} left")
        if unroled:
            why_da.append(f"{_names(unroled, ' og ')} har ikke længere rollen som godkender")
            why_en.append(f"{_names(unroled, ' and ')} no longer "
                          f"{'have' if len(unroled) > 1 else 'has'} the approver role")
        why_da, why_en = " og ".join(why_da), " and ".join(why_en)
        # Not anyone deciding their own request: a named approver who cannot act now.
        return _refuse(
            "APPROVER_UNAVAILABLE",
            f"Anmodningen skal godkendes af {need_da} ({all_da}), men {why_da}, og {who_da}. "
            "Politikken skal navngive en ny godkender, eller administratoren give rollen "
            "tilbage: kontakt databeskyttelsesrådgiveren.",
            f"The request needs {need_en} ({all_en}), but {why_en}, and {who_en}. The policy "
            "must name a new approver, or the administrator give the role back: contact the "
            "DPO.")
    tip_da, tip_en = _enough_approvers_tip(requester, req.grantee, needed, able, policy)
    return _refuse("SELF_DECISION",
                   f"Anmodningen skal godkendes af {need_da} ({all_da}), og ingen afgør en "
                   f"anmodning, som de selv har indgivet, eller som gælder dem selv: "
                   f"{who_da}. {tip_da}",
                   f"The request needs {need_en} ({all_en}), and nobody decides a request "
                   f"they made or that concerns them: {who_en}. {tip_en}")


def _enough_approvers_tip(requester: str, grantee: str, needed: int, able: list,
                          policy: "Policy") -> tuple[str, str]:
    """What would let the request be decided: someone else filing it, asking for less
    (read access to summary data needs one approver), both, or only another approver."""
    filer = next((a for a in policy.approvers
                  if a.username == requester and requester != grantee), None)
    # If someone other than an approver filed it, only the grantee would be set aside.
    if_other_files = len([a for a in policy.approvers if a.username != grantee])
    less_da = "anmod om læseadgang til overordnede oplysninger, som kræver én godkender"
    less_en = "ask for read access to summary data, which needs one approver"
    if filer and if_other_files >= needed:
        return (f"Lad en anden end {filer.name} indgive anmodningen.",
                f"Let someone other than {filer.name} file the request.")
    if needed > 1 and able:
        return ("Anmod i stedet om læseadgang til overordnede oplysninger, som kræver én "
                "godkender.", f"Instead, {less_en}.")
    if needed > 1 and filer and if_other_files >= 1:
        return (f"Lad en anden end {filer.name} indgive anmodningen, og {less_da}.",
                f"Let someone other than {filer.name} file the request, and {less_en}.")
    return ("Kun en politik, der navngiver endnu en godkender, gør det muligt: kontakt "
            "databeskyttelsesrådgiveren.",
            "Only a policy that names another approver makes it possible: contact the DPO.")


def check_decider(actor: str, requester: str, grantee: str, policy: "Policy",
                  reviewing: bool = False, approver_role: bool = True) -> list[Check]:
    """P4: only the named approvers decide (or review), and never on their own request or
    access; a named approver whose approver role the register has taken away decides
    nothing (`approver_role`)."""
    checks = []
    if actor in (requester, grantee):
        checks.append(_refuse("SELF_DECISION",
                              "Du kan ikke selv revurdere din egen adgang; det gør en anden "
                              "navngiven godkender." if reviewing else
                              "Du kan ikke selv afgøre en anmodning, som du har indgivet, "
                              "eller som gælder din egen adgang.",
                              "You cannot review your own access; another named approver does."
                              if reviewing else
                              "You cannot decide a request you made or that concerns your "
                              "own access."))
    else:
        checks.append(_ok("SELF_DECISION", "Afgøres ikke af anmoder eller modtager.",
                          "Not decided by the requester or the grantee."))
    if actor in policy.approver_usernames and not approver_role:
        what_da = "revurdere adgang" if reviewing else "afgøre anmodninger"
        what_en = "review access" if reviewing else "decide requests"
        checks.append(_refuse("NOT_NAMED_APPROVER",
                              f"Du er navngivet godkender i politikken '{policy.name_da}', men "
                              f"registret giver dig ikke længere rollen som godkender, så du "
                              f"kan ikke {what_da}.",
                              f"You are a named approver in the policy '{policy.name_en}', but "
                              f"the register no longer gives you the approver role, so you "
                              f"cannot {what_en}."))
    elif actor in policy.approver_usernames:
        checks.append(_ok("NOT_NAMED_APPROVER", "Du er navngivet godkender i politikken.",
                          "You are a named approver in the policy."))
    else:
        what_da = "revurdere adgang" if reviewing else "afgøre anmodninger"
        what_en = "review access" if reviewing else "decide requests"
        checks.append(_refuse("NOT_NAMED_APPROVER",
                              f"Kun de navngivne godkendere ({_names(policy.approvers, ' og ')})"
                              f" kan {what_da} efter politikken '{policy.name_da}'.",
                              f"Only the named approvers ({_names(policy.approvers, ' and ')}) "
                              f"can {what_en} under the policy '{policy.name_en}'."))
    return checks


@lru_cache(maxsize=4096)
def add_months(day: date, months: int) -> date:
    """The same day some months later, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def review_due(since: date, interval_months: int) -> date:
    """P5: a grant is due for review this long after activation or its last review."""
    return add_months(since, interval_months)


def check_review(due: date, today: date) -> Check:
    """P5: re-assessed at least once a year; overdue from the day after the due date."""
    if today <= due:
        return _ok("REVIEW_OVERDUE", f"Revurdering senest {due.isoformat()}.",
                   f"Review due by {due.isoformat()}.")
    days = (today - due).days
    return _refuse("REVIEW_OVERDUE",
                   f"Revurderingen var forfalden {due.isoformat()} og er overskredet med "
                   f"{days} {'dag' if days == 1 else 'dage'}.",
                   f"The review was due on {due.isoformat()} and is {days} "
                   f"{'day' if days == 1 else 'days'} overdue.")


def acknowledgement_lapses(acknowledged_on: date) -> date:
    """P3: the first day an acknowledgement no longer counts (a year after it was given)."""
    return add_months(acknowledged_on, ACKNOWLEDGEMENT_VALID_MONTHS)


def earliest_current_acknowledgement(today: date) -> date:
    """P3: the first day whose acknowledgement still counts today, for the queries that
    count current acknowledgements. Months are clamped (29 February lapses on 28
    February), so the day is found by the same rule, not by counting back a year."""
    day = add_months(today, -ACKNOWLEDGEMENT_VALID_MONTHS) + timedelta(days=1)
    while acknowledgement_lapses(day) <= today:
        day += timedelta(days=1)
    return day


def acknowledgement_current(acknowledged_on: date | None, today: date) -> bool:
    return (acknowledged_on is not None and acknowledged_on <= today
            and today < acknowledgement_lapses(acknowledged_on))


def acknowledgement_renewal_due(acknowledged_on: date | None, today: date) -> bool:
    """P3: time to acknowledge again: never acknowledged, lapsed, or lapsing within
    ACKNOWLEDGEMENT_RENEW_DAYS (when the grantee is reminded)."""
    return (acknowledged_on is None
            or (acknowledgement_lapses(acknowledged_on) - today).days
            <= ACKNOWLEDGEMENT_RENEW_DAYS)


def check_acknowledgement(acknowledged_on: date | None, today: date) -> Check:
    """P3: every grantee acknowledges the lookup principles, and again every year."""
    if acknowledgement_current(acknowledged_on, today):
        return _ok("NOT_ACKNOWLEDGED",
                   f"Principperne for opslag er kvitteret {acknowledged_on.isoformat()}.",
                   f"The lookup principles were acknowledged on {acknowledged_on.isoformat()}.")
    if acknowledged_on is None:
        da, en = "Der er ikke kvitteret for principperne for opslag.", \
            "The lookup principles have not been acknowledged."
    elif acknowledged_on > today:
        da = f"Kvitteringen er dateret {acknowledged_on.isoformat()}, efter {today.isoformat()}."
        en = f"The acknowledgement is dated {acknowledged_on.isoformat()}, after {today.isoformat()}."
    else:
        da = (f"Kvitteringen for principperne for opslag fra {acknowledged_on.isoformat()} er "
              f"udløbet; der skal kvitteres hvert år.")
        en = (f"The acknowledgement of {acknowledged_on.isoformat()} has lapsed; it must be "
              f"renewed every year.")
    return _refuse("NOT_ACKNOWLEDGED", da + " Kvittér på siden Principper.",
                   en + " Acknowledge on the Principles page.")


@dataclass(frozen=True)
class ExistingGrant:
    """An existing grant re-evaluated against the policy in force."""

    grantee: str
    grantee_active: bool
    system: str
    access_level: str
    scope: str
    data_categories: tuple[str, ...] = ()
    review_due: date | None = None
    acknowledged_on: date | None = None
    extra: dict = field(default_factory=dict)
    grantee_name: str = ""


def evaluate_grant(grant: ExistingGrant, policy: "Policy", today: date) -> list[Check]:
    """Re-check an active grant: still allowed, still needed, still acknowledged, reviewed."""
    req = ProposedRequest(grant.grantee, grant.grantee_active, grant.system,
                          grant.access_level, grant.scope, policy.id, "", "",
                          grant.data_categories, grantee_name=grant.grantee_name)
    checks = [*check_system(req, policy), *check_areas(req, policy),
              check_special_categories(req, policy), check_grantee_active(req),
              check_acknowledgement(grant.acknowledged_on, today)]
    if grant.review_due is not None:
        checks.append(check_review(grant.review_due, today))
    return checks


class GrantEvaluator:
    """Re-evaluates many grants against one policy. Each check is worked out once per
    combination of what it depends on: the system, level and scope (P4), the system, scope
    and categories (P6), the categories (P7), the acknowledgement date (P3) and the due date
    (P5). Tens of thousands of grants share a few thousand such combinations, and most
    grants fail nothing, so most grants cost a handful of dictionary lookups."""

    def __init__(self, policy: "Policy", today: date):
        self.policy, self.today = policy, today
        self._by_system: dict[str, "Policy"] = {}
        self._static: dict[tuple, tuple[Check, ...]] = {}
        self._system: dict[tuple, tuple[Check, ...]] = {}
        self._areas: dict[tuple, tuple[Check, ...]] = {}
        self._special: dict[tuple, tuple[Check, ...]] = {}
        self._acknowledged: dict[date | None, tuple[Check, ...]] = {}
        self._due: dict[date, tuple[Check, ...]] = {}

    def _policy_for(self, system: str) -> "Policy":
        """The policy with only this system's non-grantable areas: the same answers,
        without looking through every other system's areas."""
        narrowed = self._by_system.get(system)
        if narrowed is None:
            narrowed = self._by_system[system] = replace(self.policy, non_grantable=tuple(
                area for area in self.policy.non_grantable if area.system == system))
        return narrowed

    def _request(self, system: str, level: str, scope: str,
                 categories: tuple[str, ...] = ()) -> ProposedRequest:
        return ProposedRequest("", True, system, level, scope, self.policy.id, "", "",
                               categories)

    def _static_failures(self, system: str, level: str, scope: str,
                         categories: tuple[str, ...]) -> tuple[Check, ...]:
        """What fails whoever holds the access and whenever: P4, P6 and P7."""
        key = (system, level, scope)
        found = self._system.get(key)
        if found is None:
            found = self._system[key] = tuple(failures(check_system(
                self._request(system, level, scope), self.policy)))
        policy = self._policy_for(system)
        if policy.non_grantable:
            key = (system, scope, categories)
            areas = self._areas.get(key)
            if areas is None:
                areas = self._areas[key] = tuple(failures(check_areas(
                    self._request(system, level, scope, categories), policy)))
            found += areas
        if categories:
            special = self._special.get(categories)
            if special is None:
                special = self._special[categories] = tuple(failures([check_special_categories(
                    self._request(system, level, scope, categories), self.policy)]))
            found += special
        return found

    def findings(self, grant: ExistingGrant) -> list[Check]:
        """The failed checks of one grant (an empty list when all is well)."""
        return list(self.failed(grant.grantee, grant.grantee_active, grant.system,
                                grant.access_level, grant.scope, grant.data_categories,
                                grant.review_due, grant.acknowledged_on))

    def failed(self, grantee: str, active: bool, system: str, level: str, scope: str,
               categories: tuple[str, ...], review_due: date | None,
               acknowledged_on: date | None) -> tuple[Check, ...]:
        """The failed checks of one grant, given as plain values (no object per grant)."""
        return (self.access_failures(system, level, scope, categories)
                + self.person_failures(grantee, active, acknowledged_on)
                + self.due_failures(review_due))

    def access_failures(self, system: str, level: str, scope: str,
                        categories: tuple[str, ...]) -> tuple[Check, ...]:
        """What fails whoever holds the access (P4, P6, P7)."""
        key = (system, level, scope, categories)
        found = self._static.get(key)
        if found is None:
            found = self._static[key] = self._static_failures(system, level, scope, categories)
        return found

    def person_failures(self, grantee: str, active: bool, acknowledged_on: date | None,
                        grantee_name: str = "") -> tuple[Check, ...]:
        """What fails because of the grantee, whatever the access: has left (P1), has no
        current acknowledgement (P3)."""
        acknowledged = self._acknowledged.get(acknowledged_on)
        if acknowledged is None:
            acknowledged = self._acknowledged[acknowledged_on] = (
                () if acknowledgement_current(acknowledged_on, self.today)
                else (check_acknowledgement(acknowledged_on, self.today),))
        if active:
            return acknowledged
        return (check_grantee_active(ProposedRequest(grantee, False, "", "", "", "", "", "",
                                                     grantee_name=grantee_name)),
                *acknowledged)

    def due_failures(self, review_due: date | None) -> tuple[Check, ...]:
        """The review is overdue (P5)."""
        if review_due is None or self.today <= review_due:
            return ()
        due = self._due.get(review_due)
        if due is None:
            due = self._due[review_due] = (check_review(review_due, self.today),)
        return due
