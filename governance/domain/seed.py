"""Seed files: the register's centres, categories, employees and systems, validated whole."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .register import AreaFacts, PersonFacts, RegisterFacts, SystemFacts
from .source import Entry, SourceError, read_yaml, unknown
from .vocabulary import (CATEGORY_CODE_RULE, CENTRE_CODE_RULE, CRIMINAL_CATEGORY,
                         SPECIAL_CATEGORIES, SYSTEM_CODE_RULE, USERNAME_RULE,
                         AccessLevel, CategoryKind, EmployeeStatus, Role, Scope,
                         RESERVED_WHY, reserved_username,
                         valid_category_code, valid_centre_code, valid_email, valid_system_code,
                         valid_username)

SECTIONS = ("centres", "categories", "employees", "systems", "demo_logins")
ROLES = {role.value for role in Role}
LEVELS = {level.value for level in AccessLevel}
SCOPES = {scope.value for scope in Scope}


@dataclass(frozen=True)
class CentreSeed:
    code: str
    name: str
    manager: str | None
    where: tuple[str, str]


@dataclass(frozen=True)
class CategorySeed:
    code: str
    kind: str
    name_da: str
    name_en: str


@dataclass(frozen=True)
class EmployeeSeed:
    username: str
    name: str
    email: str
    centre: str
    title: str
    roles: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class AreaSeed:
    key: str
    name_da: str
    name_en: str
    scopes: tuple[str, ...]
    categories: tuple[str, ...]
    contact: str


@dataclass(frozen=True)
class SystemSeed:
    code: str
    name: str
    description: str
    external_owner: str
    owner: str
    user_admins: tuple[str, ...]
    access_levels: tuple[str, ...]
    scopes: tuple[str, ...]
    data_categories: tuple[str, ...]
    areas: tuple[AreaSeed, ...]


@dataclass
class SeedData:
    centres: list[CentreSeed] = field(default_factory=list)
    categories: list[CategorySeed] = field(default_factory=list)
    employees: list[EmployeeSeed] = field(default_factory=list)
    systems: list[SystemSeed] = field(default_factory=list)
    demo_logins: dict[str, str] = field(default_factory=dict)
    demo_login_files: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def register_facts(self) -> RegisterFacts:
        people = {e.username: PersonFacts(e.username, e.name, frozenset(e.roles),
                                          e.status == "active") for e in self.employees}
        emails = {e.username: e.email for e in self.employees}
        systems = {}
        for s in self.systems:
            areas = {a.key: AreaFacts(s.code, a.key, a.name_da, a.name_en, a.contact,
                                      people[a.contact].name, emails[a.contact],
                                      a.scopes, a.categories) for a in s.areas}
            systems[s.code] = SystemFacts(s.code, s.name, s.access_levels, s.scopes,
                                          s.data_categories, areas)
        return RegisterFacts(systems, people, {c.code: c.kind for c in self.categories},
                             source="the seed")


def seed_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise SourceError(str(path), "no such seed file or folder")
    files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
    if not files:
        raise SourceError(str(path), "holds no .yaml seed files")
    return files


def read_seed(path: Path, display_root: Path | None = None) -> SeedData:
    """Read and cross-check every seed file; raise SourceError on the first fault."""
    data = SeedData()
    owners: dict[str, dict[str, tuple[str, str]]] = {s: {} for s in SECTIONS}
    for file in seed_files(Path(path)):
        name = _display(file, display_root)
        data.files.append(name)
        document = Entry(name, "", read_yaml(file, name))
        for section in SECTIONS:
            items = document.optional(section, dict if section == "demo_logins" else list)
            if items is not None:
                _read_section(data, section, document, items, owners[section])
        document.done()
    try:
        _cross_check(data, owners)
    except SourceError as error:
        if not Path(path).is_file():
            raise
        # One file read alone: what it names may be defined in the seed's other files.
        raise SourceError(error.file, f"{error.detail} (only this file was read; the seed's "
                                      "files refer to each other: pass the seed folder)",
                          entry=error.entry, field=error.field, line=error.line) from error
    return data


def _display(file: Path, root: Path | None) -> str:
    try:
        return str(file.resolve().relative_to(root.resolve())) if root else str(file)
    except ValueError:
        return str(file)


def _read_section(data: SeedData, section: str, document: Entry, items, seen: dict) -> None:
    if section == "demo_logins":
        logins = document.child(section, items, section)
        data.demo_login_files.append(logins.file)
        for username, password in items.items():
            if not isinstance(password, str) or len(password) < 8:
                raise logins.error(str(username), "a demo password must be text of at least "
                                                  "8 characters")
            data.demo_logins[str(username)] = password
            seen[str(username)] = (logins.file, f"demo_logins > {username}", logins)
        return
    reader = {"centres": _centre, "categories": _category, "employees": _employee,
              "systems": _system}[section]
    target = getattr(data, section)
    for index, item in enumerate(items):
        entry = document.child(section, item, f"{section}[{index}]")
        value = reader(entry)
        key = value.username if section == "employees" else value.code
        if key in seen:
            raise entry.error("username" if section == "employees" else "code",
                              f"'{key}' is already defined in {seen[key][0]} ({seen[key][1]})")
        seen[key] = (entry.file, entry.entry, entry)
        entry.done()
        target.append(value)


def _centre(entry: Entry) -> CentreSeed:
    code = entry.required("code", max_length=20)
    entry.entry += f" ({code})"
    if not valid_centre_code(code):
        raise entry.error("code", f"'{code}' is not a centre code: {CENTRE_CODE_RULE}")
    return CentreSeed(code, entry.required("name", max_length=200, one_line=True),
                      entry.optional("manager"), (entry.file, entry.entry))


# A system's description is read on its page; it is kept whole in the audit trail's details.
DESCRIPTION_MAX = 2000


def _category(entry: Entry) -> CategorySeed:
    code = entry.required("code", max_length=40)
    entry.entry += f" ({code})"
    if not valid_category_code(code):
        raise entry.error("code", f"'{code}' is not a category code: {CATEGORY_CODE_RULE}")
    kind = entry.choice("kind", {k.value for k in CategoryKind}, "category kind")
    # The law fixes these kinds (GDPR art. 9 and 10); principle 7 forbids them by kind, so
    # a seed that called health data ordinary would open it to requests.
    legal = ("special" if code in SPECIAL_CATEGORIES
             else "criminal" if code == CRIMINAL_CATEGORY else None)
    if legal and kind != legal:
        what = ("a special category (GDPR art. 9)" if legal == "special"
                else "criminal-offence data (GDPR art. 10)")
        raise entry.error("kind", f"'{code}' is {what}; its kind must be '{legal}', not "
                                  f"'{kind}'")
    return CategorySeed(code, kind,
                        entry.required("name_da", max_length=200, one_line=True),
                        entry.required("name_en", max_length=200, one_line=True))


def _employee(entry: Entry) -> EmployeeSeed:
    username = entry.required("username")
    entry.entry += f" ({username})"
    if not valid_username(username):
        raise entry.error("username", f"'{username}' is not a username: {USERNAME_RULE}")
    if reserved_username(username):
        raise entry.error("username", f"'{username}' cannot be a username: "
                                      f"{RESERVED_WHY[username.lower()]}")
    email = entry.required("email", max_length=254, one_line=True)
    if not valid_email(email):
        raise entry.error("email", f"'{email}' is not an e-mail address")
    return EmployeeSeed(
        username, entry.required("name", max_length=200, one_line=True), email,
        entry.required("centre"),
        entry.optional("title", str, "", max_length=200, one_line=True),
        tuple(entry.text_list("roles", allowed=ROLES, what="role")),
        entry.choice("status", {s.value for s in EmployeeStatus}, "status",
                     required=False, default="active"))


def _system(entry: Entry) -> SystemSeed:
    code = entry.required("code", max_length=20)
    entry.entry += f" ({code})"
    if not valid_system_code(code):
        raise entry.error("code", f"'{code}' is not a system code: {SYSTEM_CODE_RULE}")
    levels = entry.text_list("access_levels", allowed=LEVELS, what="access level")
    scopes = entry.text_list("scopes", allowed=SCOPES, what="scope")
    areas = []
    for index, item in enumerate(entry.optional("non_grantable_areas", list, []) or []):
        area = entry.child("non_grantable_areas", item, f"non_grantable_areas[{index}]")
        key = area.required("key", max_length=60)
        area.entry += f" ({key})"
        if any(existing.key == key for existing in areas):
            raise area.error("key", f"area '{key}' is defined twice for {code}")
        areas.append(AreaSeed(key, area.required("name_da", max_length=300, one_line=True),
                              area.required("name_en", max_length=300, one_line=True),
                              tuple(area.text_list("scopes", required=False, allowed=set(scopes),
                                                   what=f"scope of {code}")),
                              tuple(area.text_list("categories", required=False,
                                                   what="data category")),
                              area.required("contact")))
        area.done()
    return SystemSeed(code, entry.required("name", max_length=200, one_line=True),
                      entry.optional("description", str, "", max_length=DESCRIPTION_MAX),
                      entry.required("external_owner", max_length=200, one_line=True),
                      entry.required("owner"),
                      tuple(entry.text_list("user_admins", what="employee")), tuple(levels),
                      tuple(scopes), tuple(entry.text_list("data_categories",
                                                           what="data category")),
                      tuple(areas))


def _cross_check(data: SeedData, owners: dict) -> None:
    """Every name used must be defined somewhere in the seed."""
    centres = {c.code for c in data.centres}
    people = {e.username: e for e in data.employees}
    categories = {c.code for c in data.categories}

    def fail(section: str, key: str, field: str, message: str) -> None:
        file, entry, source = owners[section][key]
        # The line of the field (or of the list it is in, "non_grantable_areas (...) > x").
        lines = getattr(source.value, "key_lines", {})
        line = lines.get(field, lines.get(field.split(" ")[0], source.line))
        raise SourceError(file, message, entry=entry, field=field, line=line)

    def active(section: str, key: str, field: str, username: str, what: str) -> None:
        """A role that someone must carry out now cannot go to a person who has left."""
        if people[username].status != "active":
            fail(section, key, field, f"employee '{username}' has left and cannot be {what}")

    def one_each(field: str, key_of, says) -> None:
        """Each key (a username whatever its case, an active person's address) belongs to
        one employee; the second names the first, with its file and entry."""
        seen: dict[str, str] = {}
        for e in data.employees:
            key = key_of(e)
            if key is None:
                continue
            other = seen.setdefault(key, e.username)
            if other != e.username:
                file, entry, _ = owners["employees"][other]
                fail("employees", e.username, field, says(e, other, f"{file} ({entry})"))

    # One person, one username, whatever its case (logins and the HR feed ignore it too).
    one_each("username", lambda e: e.username.lower(),
             lambda e, other, where: f"'{e.username}' is '{other}' in another case, already "
                                     f"defined in {where}; a username is the same whatever "
                                     "its case")
    # One address, one active person: mail about someone's access goes to them alone.
    one_each("email", lambda e: e.email.lower() if e.status == "active" else None,
             lambda e, other, where: f"'{e.email}' is already the e-mail address of "
                                     f"'{other}' in {where}; mail about a person's access "
                                     "must reach them alone")
    for c in data.centres:
        if c.manager and c.manager not in people:
            fail("centres", c.code, "manager", unknown("employee", c.manager, people))
        if c.manager:
            active("centres", c.code, "manager", c.manager, "a centre's manager")
    for e in data.employees:
        if e.centre not in centres:
            fail("employees", e.username, "centre", unknown("centre", e.centre, centres))
    for s in data.systems:
        if s.owner not in people:
            fail("systems", s.code, "owner", unknown("employee", s.owner, people))
        active("systems", s.code, "owner", s.owner, "a system's owner")
        for username in s.user_admins:
            if username not in people:
                fail("systems", s.code, "user_admins", unknown("employee", username, people))
            active("systems", s.code, "user_admins", username, "a user administrator")
            if "user_admin" not in people[username].roles:
                fail("systems", s.code, "user_admins",
                     f"employee '{username}' does not have the user_admin role")
        for code in s.data_categories:
            if code not in categories:
                fail("systems", s.code, "data_categories",
                     unknown("data category", code, categories))
        for area in s.areas:
            if area.contact not in people:
                fail("systems", s.code, f"non_grantable_areas ({area.key}) > contact",
                     unknown("employee", area.contact, people))
            active("systems", s.code, f"non_grantable_areas ({area.key}) > contact",
                   area.contact, "the contact person for an area")
            for code in area.categories:
                if code not in s.data_categories:
                    fail("systems", s.code, f"non_grantable_areas ({area.key}) > categories",
                         f"'{code}' is not among the data categories {s.code} holds")
        if not s.user_admins:
            fail("systems", s.code, "user_admins", "every system needs a user administrator")
    for username in data.demo_logins:
        if username not in people:
            fail("demo_logins", username, username, unknown("employee", username, people))
