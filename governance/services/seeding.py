"""Loading seed files into the register: all or nothing, idempotent, audited."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.seed import SeedData, read_seed
from ..domain.source import SourceError
from ..models import (AuditEntry, Centre, DataCategory, Employee, EmployeeRole, NonGrantableArea,
                      System)
from . import audit, employees, passwords
from .actor import Actor


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    passwords_set: list[str] = field(default_factory=list)
    kept_leavers: list[str] = field(default_factory=list)
    # Employees the seed marked as left in this run, with how many accesses that ended.
    marked_left: dict[str, int] = field(default_factory=dict)
    # Active employees of the register that a seed listing employees does not name: the
    # seed never ends anyone's access by leaving them out; it says so instead.
    not_in_seed: list[str] = field(default_factory=list)
    # Systems of the register the seed's systems.yaml does not name: kept as they are (a
    # system holds evidence; nothing is deleted).
    systems_not_in_seed: list[str] = field(default_factory=list)
    # What the register changed since the seed last wrote it (the HR feed, the admin's
    # pages), kept because the seed file did not change it: "employee mbe" -> fields.
    kept_from_register: dict[str, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.passwords_set)


def seed_register(session: Session, actor: Actor, path: Path,
                  root: Path | None = None, demo_logins: bool = True) -> SeedReport:
    """Validate every seed file first; then create or update what differs, auditing each.
    Without `demo_logins` (production), a seed that sets demo passwords is refused."""
    data = read_seed(Path(path), root)
    if data.demo_logins and not demo_logins:
        file = next(iter(data.demo_login_files), str(path))
        raise SourceError(file, "sets the demo accounts' passwords, which a production "
                                "register must not have: leave this file out of the "
                                "production seed", field="demo_logins")
    report = SeedReport()
    _Applier(session, actor, report).apply(data)
    return report


class _Applier:
    """Writes the seed into the register. A value the seed file has not changed since it
    was last seeded is not written again over what the register holds now: a centre or an
    e-mail address changed by the HR feed or the admin's pages stays, and a field changed
    in the file is applied (a three-way merge, against the seed's own audit entries)."""

    def __init__(self, session: Session, actor: Actor, report: SeedReport):
        self.session, self.actor, self.report = session, actor, report
        self._seeded: dict[str, dict[str, dict]] = {}

    def seeded(self, kind: str, key: str) -> dict | None:
        """The values the seed last wrote for one row, field by field (None: never)."""
        if kind not in self._seeded:
            found: dict[str, dict] = {}
            for object_id, details in self.session.execute(
                    select(AuditEntry.object_id, AuditEntry.details).where(
                        AuditEntry.action.in_(("seed.create", "seed.update")),
                        AuditEntry.object_type == kind).order_by(AuditEntry.id)):
                written = json.loads(details or "{}")
                found.setdefault(object_id, {}).update(
                    written.get("seed") or written.get("after") or {})
            self._seeded[kind] = found
        return self._seeded[kind].get(key)

    def merged(self, kind: str, key: str, current: dict, wanted: dict) -> dict:
        """What to write: the seed's value where the file changed it since it was last
        seeded (or never seeded it), else the register's own."""
        last = self.seeded(kind, key)
        target = dict(current)
        kept = []
        for name, value in wanted.items():
            if last is None or name not in last or last[name] != value:
                target[name] = value
            elif current.get(name) != value:
                kept.append(name)
        if kept:
            self.report.kept_from_register[f"{kind} {key}"] = kept
        return target

    def changes(self, kind: str, key: str, current: dict, wanted: dict) -> dict | None:
        """The values to write (`merged`), or None when the register holds them already.
        Then a file changed to what the register holds is recorded, so that the next seed
        knows what the file says."""
        target = self.merged(kind, key, current, wanted)
        if target != current:
            return target
        last = self.seeded(kind, key)
        if last is not None and any(last.get(k) != v for k, v in wanted.items()):
            self._audit("update", kind, key, current, current, seed=wanted, counted=False)
        return None

    def apply(self, data: SeedData) -> None:
        categories = {c.code: self._upsert(DataCategory, "category", c.code, {
            "kind": c.kind, "name_da": c.name_da, "name_en": c.name_en})
            for c in data.categories}
        categories.update({c.code: c for c in self.session.scalars(select(DataCategory))
                           if c.code not in categories})
        centres = {c.code: self._upsert(Centre, "centre", c.code, {"name": c.name})
                   for c in data.centres}
        centres.update({c.code: c for c in self.session.scalars(select(Centre))
                        if c.code not in centres})
        people = {e.username: self._employee(e, centres) for e in data.employees}
        others = [p for p in self.session.scalars(select(Employee).order_by(Employee.username))
                  if p.username not in people]
        if data.employees:
            self.report.not_in_seed = [p.username for p in others if p.active]
        people.update({p.username: p for p in others})
        for c in data.centres:
            centre = centres[c.code]
            current = {"manager": _name(centre.manager)}
            target = self.changes("centre", c.code, current, {"manager": c.manager})
            if target:
                self._audit("update", "centre", c.code, current, target)
                centre.manager = people[target["manager"]] if target["manager"] else None
        for s in data.systems:
            self._system(s, people, categories)
        if data.systems:
            seeded = {s.code for s in data.systems}
            self.report.systems_not_in_seed = sorted(
                code for code in self.session.scalars(select(System.code))
                if code not in seeded)
        for username, password in data.demo_logins.items():
            employee = people[username]
            if employee.password_hash is None:
                employee.password_hash = passwords.hash_password(password)
                self.report.passwords_set.append(username)
                audit.record(self.session, actor=self.actor.username, action="user.password_set",
                             object_type="employee", object_id=username,
                             summary=f"Demo password set for {username} from the seed",
                             details={"source": "seed demo_logins"},
                             client_address=self.actor.client_address)
        self.session.flush()

    def _upsert(self, model, kind: str, code: str, values: dict):
        row = self.session.scalar(select(model).where(model.code == code))
        if row is None:
            row = model(code=code, **values)
            self.session.add(row)
            self.session.flush()
            self._audit("create", kind, code, None, values)
            return row
        before = {k: getattr(row, k) for k in values}
        target = self.changes(kind, code, before, values)
        if target:
            for k, v in target.items():
                setattr(row, k, v)
            self._audit("update", kind, code, before, target, seed=values)
        return row

    def _employee(self, e, centres) -> Employee:
        values = {"name": e.name, "email": e.email, "centre": e.centre, "title": e.title,
                  "roles": sorted(e.roles), "status": e.status}
        row = self.session.scalar(select(Employee).where(Employee.username == e.username))
        if row is None:
            row = Employee(username=e.username, name=e.name, email=e.email,
                           centre=centres[e.centre], title=e.title, status=e.status,
                           role_rows=[EmployeeRole(role=r) for r in e.roles])
            self.session.add(row)
            self.session.flush()
            self._audit("create", "employee", e.username, None, values)
            return row
        # A leaver stays one: the seed does not bring a person back (a returning employee
        # gets a new account), and a seed that marks someone as left ends their access as
        # the HR feed does.
        if row.status == "left" and e.status != "left":
            self.report.kept_leavers.append(e.username)
        leaving = e.status == "left" and row.status != "left"
        values["status"] = row.status   # leaving is the HR feed's step, below
        before = {"name": row.name, "email": row.email, "centre": row.centre.code,
                  "title": row.title, "roles": sorted(row.roles), "status": row.status}
        target = self.changes("employee", e.username, before,
                              {k: v for k, v in values.items() if k != "status"})
        if target:
            row.name, row.email, row.title = target["name"], target["email"], target["title"]
            row.centre = centres[target["centre"]]
            if sorted(row.roles) != target["roles"]:
                row.role_rows = [EmployeeRole(role=r) for r in target["roles"]]
            self.session.flush()
            self._audit("update", "employee", e.username, before, target, seed=values)
        if leaving:
            ended = employees.record_leaver(self.session, self.actor, row)
            self.report.marked_left[e.username] = len(ended)
            if f"employee {e.username}" not in self.report.updated:
                self.report.updated.append(f"employee {e.username}")
        return row

    def _system(self, s, people, categories) -> None:
        values = {"name": s.name, "description": s.description,
                  "external_owner": s.external_owner, "owner": s.owner,
                  "user_admins": sorted(s.user_admins), "access_levels": list(s.access_levels),
                  "scopes": list(s.scopes), "data_categories": sorted(s.data_categories),
                  "non_grantable_areas": [_area_values(a) for a in
                                          sorted(s.areas, key=lambda a: a.key)]}
        row = self.session.scalar(select(System).where(System.code == s.code))
        before = None
        if row is None:
            row = System(code=s.code)
            self.session.add(row)
        else:
            before = {"name": row.name, "description": row.description,
                      "external_owner": row.external_owner, "owner": row.owner.username,
                      "user_admins": sorted(u.username for u in row.user_admins),
                      "access_levels": list(row.access_levels), "scopes": list(row.scopes),
                      "data_categories": sorted(c.code for c in row.categories),
                      "non_grantable_areas": [_area_values(a, a.contact.username)
                                              for a in sorted(row.areas, key=lambda a: a.key)]}
            if before == values:
                return
        row.name, row.description = s.name, s.description
        row.external_owner, row.owner = s.external_owner, people[s.owner]
        row.user_admins = [people[u] for u in s.user_admins]
        row.access_levels, row.scopes = list(s.access_levels), list(s.scopes)
        row.categories = [categories[c] for c in s.data_categories]
        self.session.flush()
        existing = {a.key: a for a in row.areas}
        for a in s.areas:
            area = existing.get(a.key) or NonGrantableArea(system=row, key=a.key)
            area.name_da, area.name_en = a.name_da, a.name_en
            area.scopes, area.categories = list(a.scopes), list(a.categories)
            area.contact = people[a.contact]
            self.session.add(area)
        # An area the seed no longer names is grantable from now on; the audit entry below
        # keeps what it was (before).
        for key in set(existing) - {a.key for a in s.areas}:
            self.session.delete(existing[key])
        self.session.flush()
        self.session.expire(row, ["areas"])
        self._audit("update" if before else "create", "system", s.code, before, values)

    def _audit(self, verb: str, kind: str, key: str, before, after, seed=None,
               counted: bool = True) -> None:
        # A centre made in this run and then given its manager (once the employees exist)
        # is counted once, as created; the audit trail keeps both steps.
        name = f"{kind} {key}"
        if counted and not (verb == "update" and name in self.report.created):
            (self.report.updated if verb == "update" else self.report.created).append(name)
        audit.record(self.session, actor=self.actor.username, action=f"seed.{verb}",
                     object_type=kind, object_id=key,
                     summary=(f"Seed {'updated' if verb == 'update' else 'created'} "
                              f"{kind} {key}" if counted else
                              f"Seed file now gives {kind} {key} what the register holds"),
                     details={"before": before, "after": after,
                              **({"seed": seed} if seed is not None and seed != after else {})},
                     client_address=self.actor.client_address)


def _area_values(area, contact: str | None = None) -> dict:
    return {"key": area.key, "name_da": area.name_da, "name_en": area.name_en,
            "scopes": list(area.scopes), "categories": list(area.categories),
            "contact": contact or area.contact}


def _name(employee: Employee | None) -> str | None:
    return employee.username if employee else None


def working_demo_logins(session: Session, demo: dict[str, str]
                        ) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Of the seed's demo logins, those that still work, and the others with why: "left"
    (the person has left) or "changed" (the password was set anew since)."""
    people = {e.username: e for e in session.scalars(
        select(Employee).where(Employee.username.in_(list(demo))))}
    works, gone = {}, []
    for username, password in demo.items():
        person = people.get(username)
        if person is not None and not person.active:
            gone.append((username, "left"))
        elif person is None or not passwords.verify_password(person.password_hash, password):
            gone.append((username, "changed"))
        else:
            works[username] = password
    return works, gone
