"""The fixed vocabulary shared by the API, the seed and the policies."""
import re
from enum import StrEnum

# A username is part of URLs (/employees/<username>) and of the audit trail: letters,
# digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters.
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
USERNAME_RULE = ("letters, digits, '.', '_' and '-', starting with a letter or digit, "
                 "at most 64 characters")


# Words that are pages of their own under /employees/, so no one can be called them.
# Usernames that mean something else: /employees/new is the page for adding one, and the
# audit trail names the command line "system" and a visitor not logged in "anonymous".
RESERVED_USERNAMES = frozenset({"new", "system", "anonymous"})
RESERVED_WHY = {
    "new": "/employees/new is the page for adding an employee",
    "system": "the audit trail names the command line and the scheduler 'system'",
    "anonymous": "the audit trail names a visitor who is not logged in 'anonymous'",
}


# Characters the register does not keep in text: control characters (PostgreSQL refuses
# NUL outright), half of a surrogate pair, and the replacement character that undecodable
# input became. In a one-line value (a name, a title) also tabs, line breaks and the
# direction overrides that make a name display as something else.
_NEVER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd]")
_NOT_IN_ONE_LINE = re.compile("[\t\n\r\u202a-\u202e\u2066-\u2069]")


def unstorable(text: str, one_line: bool = False) -> str | None:
    """The first character that text in the register may not hold, written like "U+0007";
    or None."""
    found = _NEVER.search(text) or (_NOT_IN_ONE_LINE.search(text) if one_line else None)
    return f"U+{ord(found.group()):04X}" if found else None


def valid_username(value: object) -> bool:
    return isinstance(value, str) and USERNAME.fullmatch(value) is not None


# An e-mail address as notifications need one: a name, an @, and a domain with a dot.
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def valid_email(value: str) -> bool:
    return EMAIL.fullmatch(value) is not None


def reserved_username(value: str) -> bool:
    return value.lower() in RESERVED_USERNAMES


# A data category code is a word of the API, the seed and the policies: lowercase letters,
# digits and '_', starting with a letter, at most 40 (as `case_overview`).
CATEGORY_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
CATEGORY_CODE_RULE = "lowercase letters, digits and '_', starting with a letter, at most 40"


def valid_category_code(value: object) -> bool:
    return isinstance(value, str) and CATEGORY_CODE.fullmatch(value) is not None


# A centre code is short and part of URLs (/centres/<centre_code>/edit): capital letters, Æ, Ø and Å
# included, and digits, at most 20.
CENTRE_CODE = re.compile(r"[A-ZÆØÅ0-9]{1,20}")


def valid_centre_code(value: object) -> bool:
    return isinstance(value, str) and CENTRE_CODE.fullmatch(value) is not None


CENTRE_CODE_RULE = "capital letters (Æ, Ø and Å too) and digits, at most 20"

# A system code is part of URLs (/systems/<code>) and of every request: capital letters,
# Æ, Ø and Å included, digits, '-' and '_', starting with a letter or digit, at most 20.
SYSTEM_CODE = re.compile(r"[A-ZÆØÅ0-9][A-ZÆØÅ0-9_-]{0,19}")
SYSTEM_CODE_RULE = ("capital letters (Æ, Ø and Å too), digits, '-' and '_', starting with a "
                    "letter or digit, at most 20")


def valid_system_code(value: object) -> bool:
    return isinstance(value, str) and SYSTEM_CODE.fullmatch(value) is not None


class AccessLevel(StrEnum):
    READ = "read"
    WRITE = "write"


class Scope(StrEnum):
    SUMMARY = "summary"
    DETAIL = "detail"


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    ONCE = "once"


class CategoryKind(StrEnum):
    ORDINARY = "ordinary"
    CPR_NUMBER = "cpr_number"
    FINANCIAL = "financial"
    SPECIAL = "special"
    CRIMINAL = "criminal"


class Role(StrEnum):
    REQUESTER = "requester"
    APPROVER = "approver"
    USER_ADMIN = "user_admin"
    DPO = "dpo"
    ADMIN = "admin"


class EmployeeStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class GrantStatus(StrEnum):
    APPROVED = "approved"
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


# The art. 9 special categories, plus art. 10 criminal-offence data, which the
# EU-øst policy treats the same way (databeskyttelsesloven § 8).
SPECIAL_CATEGORIES = (
    "ethnic_origin", "political_opinion", "religion", "trade_union",
    "genetic", "biometric", "health", "sex_life",
)
CRIMINAL_CATEGORY = "criminal"

# Danish interface labels for the vocabulary (the code stays English).
LABELS_DA = {
    "read": "læseadgang", "write": "skriveadgang",
    "summary": "overordnede oplysninger", "detail": "sagsdetaljer",
    "daily": "dagligt", "weekly": "ugentligt", "monthly": "månedligt",
    "quarterly": "kvartalsvis", "yearly": "årligt", "once": "én gang",
    "requester": "anmoder", "approver": "godkender",
    "user_admin": "brugeradministrator", "dpo": "databeskyttelsesrådgiver (DPO)",
    "admin": "administrator",
    "active": "aktiv", "left": "fratrådt",
    "pending": "afventer", "approved": "godkendt", "rejected": "afvist",
    "withdrawn": "trukket tilbage", "revoked": "tilbagekaldt", "expired": "udløbet",
    # An approved grant created in its system, active once its grantee acknowledges (P3).
    "awaiting_acknowledgement": "oprettet, venter på kvittering",
    "ordinary": "almindelige", "cpr_number": "CPR-nummer", "financial": "økonomiske",
    "special": "følsomme personoplysninger (art. 9)", "criminal": "strafbare forhold (art. 10)",
    "identity": "navn og identitet", "address": "adresser", "family": "familierelationer",
    "citizenship": "statsborgerskab", "residence": "opholdsgrundlag og tilladelser",
    "income": "løn og indkomst", "benefits": "ydelser og pension",
    "employment": "beskæftigelse og jobcentertilknytning",
    "case_overview": "overblik over sager",
    "case_documents": "sagsakter og dokumenter", "ethnic_origin": "race og etnisk oprindelse",
    "political_opinion": "politisk overbevisning",
    "religion": "religiøs eller filosofisk overbevisning",
    "trade_union": "fagforeningsmæssigt tilhørsforhold", "genetic": "genetiske data",
    "biometric": "biometriske data til entydig identifikation", "health": "helbredsoplysninger",
    "sex_life": "seksuelle forhold eller seksuel orientering",
}
LABELS_EN = {
    "read": "read", "write": "write", "summary": "summary", "detail": "case detail",
    "daily": "daily", "weekly": "weekly", "monthly": "monthly",
    "quarterly": "quarterly", "yearly": "yearly", "once": "once",
    "requester": "requester", "approver": "approver", "user_admin": "user administrator",
    "dpo": "data protection officer (DPO)", "admin": "administrator",
    "active": "active", "left": "left", "pending": "pending", "approved": "approved",
    "rejected": "rejected", "withdrawn": "withdrawn", "revoked": "revoked",
    "awaiting_acknowledgement": "created, awaiting acknowledgement",
    "expired": "expired", "ordinary": "ordinary", "cpr_number": "CPR number",
    "financial": "financial", "special": "special (art. 9)",
    "criminal": "criminal offences (art. 10)",
    "identity": "name and identity", "address": "addresses", "family": "family relations",
    "citizenship": "citizenship", "residence": "residence basis and permits",
    "income": "pay and income", "benefits": "benefits and pensions",
    "employment": "employment and jobcentre attachment", "case_overview": "overview of cases",
    "case_documents": "case files and documents", "ethnic_origin": "racial or ethnic origin",
    "political_opinion": "political opinions", "religion": "religious or philosophical beliefs",
    "trade_union": "trade-union membership", "genetic": "genetic data",
    "biometric": "biometric data for unique identification", "health": "health",
    "sex_life": "sex life or sexual orientation",
}


def label(value: str, locale: str = "da") -> str:
    """The interface word for a vocabulary value in the given language."""
    table = LABELS_EN if locale == "en" else LABELS_DA
    return table.get(str(value), str(value))


# How an access ended (Grant.end_reason): a few fixed reasons, a review's comment, or the
# reason a person gave when revoking by hand.
END_REASONS = {
    "left": ("medarbejderen er fratrådt", "the employee left"),
    "not re-assessed": ("ikke revurderet i tide", "not re-assessed in time"),
}
REVIEW_REASON_PREFIX = "review: "


def end_reason_label(reason: str | None, locale: str = "da") -> str:
    """How an access ended, in the interface's words."""
    if not reason:
        return ""
    english = locale == "en"
    if reason in END_REASONS:
        return END_REASONS[reason][english]
    if reason.startswith(REVIEW_REASON_PREFIX):
        comment = reason[len(REVIEW_REASON_PREFIX):]
        return f"{'at review' if english else 'ved revurdering'}: {comment}"
    return reason


# The rules' codes as the interface names them (the code stays beside it: the API and the
# audit trail use it).
RULE_NAMES = {
    "NEED_UNDOCUMENTED": ("arbejdsopgaverne er ikke beskrevet", "work tasks not described"),
    "NEED_NOT_RECURRING": ("behovet er ikke løbende", "need not recurring"),
    "SYSTEM_NOT_IN_POLICY": ("systemet er ikke omfattet af politikken",
                             "system not covered by the policy"),
    "LEVEL_NOT_ALLOWED": ("adgangsniveauet er ikke tilladt", "access level not allowed"),
    "SCOPE_NOT_ALLOWED": ("omfanget er ikke tilladt", "scope not allowed"),
    "WRITE_UNJUSTIFIED": ("skriveadgang eller sagsdetaljer uden begrundelse",
                          "write access or case detail without a justification"),
    "AREA_NOT_GRANTABLE": ("området kan der ikke gives adgang til", "area cannot be granted"),
    "SPECIAL_CATEGORY": ("følsomme personoplysninger", "special categories of personal data"),
    "GRANTEE_INACTIVE": ("medarbejderen er fratrådt", "the employee has left"),
    "DUPLICATE_ACCESS": ("adgangen findes eller er anmodet om allerede",
                         "access already held or requested"),
    "SELF_DECISION": ("egen anmodning eller adgang", "own request or access"),
    "NOT_NAMED_APPROVER": ("ikke navngiven godkender", "not a named approver"),
    "APPROVER_UNAVAILABLE": ("en navngiven godkender kan ikke godkende nu",
                             "a named approver cannot approve now"),
    "NOT_ACKNOWLEDGED": ("ingen gyldig kvittering for principperne",
                         "no current acknowledgement of the principles"),
    "REVIEW_OVERDUE": ("revurderingen er overskredet", "review overdue"),
}


def rule_name(code: str, locale: str = "da") -> str:
    names = RULE_NAMES.get(code)
    return (names[1] if locale == "en" else names[0]) if names else code
