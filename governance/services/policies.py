"""Loading the policy files into the versions in force, and reading what is in force."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, selectinload

from ..domain.policy import (PRINCIPLES_NAME, Policy, Principle, file_digest,
                             leaving_approvers, load_policy, load_principles,
                             policy_from_dict, policy_to_dict, principles_from_list,
                             principles_to_list)
from ..domain.register import AreaFacts, PersonFacts, RegisterFacts, SystemFacts
from ..domain.seed import read_seed
from ..domain.source import SourceError
from ..models import AccessRequest, DataCategory, Employee, Grant, PolicyVersion, System
from . import audit
from .actor import Actor
from .errors import Conflict, NotFound

PRINCIPLES_FILE = "principles.yaml"


@dataclass
class PolicySet:
    principles: tuple[Principle, ...]
    principles_sha256: str
    policies: dict[str, Policy]


def register_facts(session: Session) -> RegisterFacts:
    """The register as plain facts, for checking policies against it."""
    people = {e.username: PersonFacts(e.username, e.name, frozenset(e.roles), e.active)
              for e in session.scalars(select(Employee).options(
                  selectinload(Employee.role_rows)))}
    systems = {}
    for s in session.scalars(select(System)):
        areas = {a.key: AreaFacts(s.code, a.key, a.name_da, a.name_en, a.contact.username,
                                  a.contact.name, a.contact.email, tuple(a.scopes),
                                  tuple(a.categories)) for a in s.areas}
        systems[s.code] = SystemFacts(s.code, s.name, tuple(s.access_levels), tuple(s.scopes),
                                      tuple(c.code for c in s.categories), areas)
    categories = {c.code: c.kind for c in session.scalars(select(DataCategory))}
    return RegisterFacts(systems, people, categories)


def check_files(policy_dir: Path, register: RegisterFacts, root: Path | None = None,
                active_approvers: bool = False):
    """Load and validate every policy file in a folder; raise SourceError on the first fault
    (with `active_approvers`, also a named approver who has left)."""
    policy_dir = Path(policy_dir)
    if not policy_dir.exists():
        raise SourceError(str(policy_dir), "no such policy file or folder")
    files = [policy_dir] if policy_dir.is_file() else sorted(policy_dir.glob("*.yaml"))
    if not files:
        raise SourceError(str(policy_dir), "holds no .yaml policy files")
    principles, policies = None, []
    for file in files:
        name = _display(file, root)
        if file.name == PRINCIPLES_FILE:
            principles = (name, load_principles(file, name), file_digest(file))
        else:
            policies.append(load_policy(file, register, name))
    for policy in policies:
        others = [p.source_file for p in policies if p.id == policy.id and p is not policy]
        if others:
            raise SourceError(policy.source_file, f"policy id '{policy.id}' is also the id in "
                                                  f"{', '.join(others)}; each policy has its "
                                                  "own id", field="id",
                              line=_line_of(policy, root, r"id\s*:"))
        if active_approvers and (left := _leaving(policy, register, root)):
            raise left
    return principles, policies


def _declares_id(file: Path, name: str) -> bool:
    """Whether a policy file says `id: name` (read as text: the file need not be valid)."""
    return _first_line(file, rf"id\s*:\s*['\"]?{re.escape(name)}['\"]?\s*(#.*)?$") is not None


def _leaving(policy: Policy, register: RegisterFacts, root: Path | None):
    """A named approver who has left, located at the line that names them."""
    return leaving_approvers(policy, register, lambda username: _line_of(
        policy, root, rf"(-\s*)?username\s*:\s*['\"]?{re.escape(username)}\b"))


def _line_of(policy: Policy, root: Path | None, pattern: str) -> int | None:
    """The first line of the policy's file that matches (after indentation): where a check
    made on the loaded values points a person."""
    path = Path(policy.source_file)
    if root is not None and not path.is_absolute():
        path = root / path
    return _first_line(path, pattern)


def _first_line(path: Path, pattern: str) -> int | None:
    """The number of the file's first line that matches after its indentation; None when
    none does, or the file cannot be read as text."""
    wanted = re.compile(rf"^\s*{pattern}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return next((n for n, line in enumerate(lines, 1) if wanted.match(line)), None)


def register_for_check(session: Session, seed_path: Path,
                       prefer_seed: bool = False) -> tuple[RegisterFacts, str]:
    """The database's register when it has one (unless the seed is asked for), else the
    seed files' register; with the words for which it was."""
    if not prefer_seed and inspect(session.get_bind()).has_table(System.__tablename__) \
            and session.scalar(select(func.count(System.id))):
        return register_facts(session), "the register in the database"
    return read_seed(seed_path).register_facts(), f"the seed in {seed_path}"


def _display(file: Path, root: Path | None) -> str:
    try:
        return str(file.resolve().relative_to(root.resolve())) if root else str(file)
    except ValueError:
        return str(file)


def load_into_register(session: Session, actor: Actor, policy_dir: Path,
                       root: Path | None = None) -> list[PolicyVersion]:
    """Record each policy file whose content is new as the version in force; audit it."""
    register = register_facts(session)
    principles, policies = check_files(policy_dir, register, root)
    if principles is None and not in_force(session).principles:
        # Principle 3 is acknowledged against these texts, and the principles page shows
        # them: a register without them would record acknowledgements of nothing.
        raise SourceError(str(policy_dir), f"holds no {PRINCIPLES_FILE}, and no principles "
                                           "are in force yet: add the municipality's "
                                           f"{PRINCIPLES_FILE} (P1-P7) to the folder")
    new_versions = []
    # (name, file, sha256, snapshot, the purpose policy or None for the principles)
    entries: list[tuple[str, str, str, object, Policy | None]] = []
    if principles is not None:
        name, loaded, sha = principles
        entries.append((PRINCIPLES_NAME, name, sha, principles_to_list(loaded), None))
    for policy in policies:
        entries.append((policy.id, policy.source_file, policy.sha256, policy_to_dict(policy),
                        policy))
    for name, file, sha, snapshot, policy in entries:
        in_force_now = session.scalar(select(PolicyVersion.sha256).where(
            PolicyVersion.id == select(func.max(PolicyVersion.id))
            .where(PolicyVersion.name == name).scalar_subquery()))
        if in_force_now == sha:
            continue  # an earlier content comes back as a new version (a change undone)
        if policy is not None and (left := _leaving(policy, register, root)):
            raise left  # a new version may not name someone who has left
        version = PolicyVersion(name=name, file=file, sha256=sha,
                                content=json.dumps(snapshot, ensure_ascii=False, default=str))
        session.add(version)
        session.flush()
        audit.record(session, actor=actor.username, action="policy.load",
                     object_type="policy", object_id=name,
                     summary=f"Policy '{name}' loaded from {file} (sha256 {sha[:12]})",
                     details={"file": file, "sha256": sha, "version_id": version.id},
                     client_address=actor.client_address)
        new_versions.append(version)
    return new_versions


# A policy taken out of force is a version of its own, so the history says when: its
# content says so, and `in_force` leaves it out. Loading a file with its id brings it back.
RETIRED = "retired"
RETIRED_CONTENT = json.dumps({"retired": True})


def not_in_folder(session: Session, policy_dir: Path) -> list[str]:
    """The purpose policies in force that no file in the folder holds: they stay in force
    until retired (a renamed id leaves the old one in force beside the new). Nothing for a
    single file loaded on its own: the others were not asked about."""
    if not Path(policy_dir).is_dir():
        return []
    loaded = {policy.id for policy in check_files(policy_dir, register_facts(session))[1]}
    return sorted(set(in_force(session).policies) - loaded)


def _version_before(session: Session, version: PolicyVersion) -> PolicyVersion | None:
    """The version of the same name that this one followed in force."""
    return session.scalar(select(PolicyVersion).where(
        PolicyVersion.name == version.name, PolicyVersion.id < version.id)
        .order_by(PolicyVersion.id.desc()).limit(1))


def came_back(session: Session, versions: list[PolicyVersion]) -> list[str]:
    """Of the new versions, the policies that had been retired: back in force."""
    return [version.name for version in versions
            if (before := _version_before(session, version)) is not None
            and before.sha256 == RETIRED]


def retire(session: Session, actor: Actor, name: str,
           policy_dir: Path | None = None) -> PolicyVersion:
    """Take a purpose policy out of force, audited; refused while anything lives under it
    (pending requests, approved or active access), which would then have no rules, and
    while the policy folder still holds its file (the next load would bring it back)."""
    if policy_dir is not None and Path(policy_dir).is_dir():
        for file in sorted(Path(policy_dir).glob("*.yaml")):
            if file.name != PRINCIPLES_FILE and _declares_id(file, name):
                raise Conflict(_l("%(file)s still holds the policy '%(name)s': remove the "
                                  "file (a reviewed change) first, or the next load brings "
                                  "it back", file=str(file), name=name), field="name")
    if name not in in_force(session).policies:
        raise NotFound(_l("No purpose policy '%(name)s' is in force; in force: %(names)s",
                          name=name, names=", ".join(sorted(in_force(session).policies))
                          or "-"), field="name")
    live = session.scalar(select(func.count(Grant.id)).where(
        Grant.purpose == name, Grant.status.in_(("approved", "active"))))
    pending = session.scalar(select(func.count(AccessRequest.id)).where(
        AccessRequest.purpose == name, AccessRequest.status == "pending"))
    if live or pending:
        raise Conflict(_l("The policy '%(name)s' still has %(live)s approved or active "
                          "access(es) and %(pending)s pending request(s); revoke, reject or "
                          "withdraw them first, or load a new version instead", name=name,
                          live=live, pending=pending))
    version = PolicyVersion(name=name, file="(retired)", sha256=RETIRED,
                            content=RETIRED_CONTENT)
    session.add(version)
    session.flush()
    audit.record(session, actor=actor.username, action="policy.retire", object_type="policy",
                 object_id=name, summary=f"Policy '{name}' taken out of force",
                 details={"version_id": version.id}, client_address=actor.client_address)
    return version


def interval_notes(session: Session, versions: list[PolicyVersion]) -> list[str]:
    """For new versions that change how often access is reviewed: how many active accesses
    keep the due date they have (the new interval applies from their next review)."""
    notes = []
    for version in versions:
        if version.name == PRINCIPLES_NAME:
            continue
        before = _version_before(session, version)
        if before is None or before.sha256 == RETIRED:
            continue   # new, or back after it was retired: no interval of its own before
        old, new = (policy_from_dict(json.loads(v.content)) for v in (before, version))
        changed = sorted(code for code in new.systems
                         if code in old.systems and new.review_interval_for(code)
                         != old.review_interval_for(code))
        if not changed:
            continue
        kept = session.scalar(select(func.count(Grant.id)).join(Grant.system).where(
            Grant.purpose == version.name, Grant.status == "active",
            System.code.in_(changed)))
        notes.append(f"Policy '{version.name}': the review interval changed for "
                     f"{', '.join(changed)}; {kept} active accesses keep their due dates, and "
                     "the new interval applies from their next review.")
    return notes


# A memo of parsed snapshots keyed by their content hashes; never a source of truth.
_CACHE: dict[tuple, PolicySet] = {}


# The latest version of each policy by name, built once (see `listing` for why): every
# page that names approvers or purposes asks for it.
_LATEST = select(func.max(PolicyVersion.id)).group_by(PolicyVersion.name)
_IN_FORCE_KEY = (select(PolicyVersion.name, PolicyVersion.sha256)
                 .where(PolicyVersion.id.in_(_LATEST)).order_by(PolicyVersion.name))


def in_force(session: Session) -> PolicySet:
    """The latest loaded version of each policy; cached until a new version is loaded."""
    session.flush()  # a version loaded in this transaction counts, as with any query
    key = tuple(session.connection().execute(_IN_FORCE_KEY).all())
    if key not in _CACHE:
        versions = {v.name: v for v in session.scalars(
            select(PolicyVersion).where(PolicyVersion.id.in_(_LATEST)))
            if v.sha256 != RETIRED}
        principles = versions.pop(PRINCIPLES_NAME, None)
        _CACHE.clear()
        _CACHE[key] = PolicySet(
            principles=principles_from_list(json.loads(principles.content)) if principles
            else (), principles_sha256=principles.sha256 if principles else "",
            policies={name: policy_from_dict(json.loads(v.content))
                      for name, v in versions.items()})
    return _CACHE[key]
