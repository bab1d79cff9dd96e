"""A register at municipal scale, written in bulk.

    python -m bench.generate --database-url URL [--scale 1.0] [--reset]

At scale 1.0: the real seed and policies (loaded through the services), then 30 centres,
5,000 employees, 60 systems, a purpose policy 'bench' covering them (loaded through the
services, so it is validated and audited like a real one), 50,000 grants with their
requests, decisions, reviews and acknowledgements over the five years before today,
pending, rejected, withdrawn and refused requests, leavers, and an audit trail of
1,000,000 hash-chained entries. Every count is multiplied by --scale.

The history is simulated first, in memory, with the same rules the services apply
(the loaded policies decide what can be granted; review dates move as services/reviews.py
moves them; activation waits for a current acknowledgement as services/grants.py does);
then rows are written with SQLAlchemy Core executemany in large batches (on PostgreSQL
with COPY), and the audit entries are chained with services.audit.entry_hash in the order
of their timestamps. The audit clock is set back to the start of the history while the
seed and the policies are loaded, so created_at increases along the whole chain.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from heapq import merge
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
import yaml

from governance.config import PROJECT_ROOT, database_url
from governance.domain.rules import (RULE_PRINCIPLES, ProposedRequest, acknowledgement_current,
                                     add_months, check_areas, check_special_categories,
                                     check_system, failures)
from governance.domain.vocabulary import CategoryKind

SEED_PATH = PROJECT_ROOT / "seed"
POLICY_PATH = PROJECT_ROOT / "policies"
BENCH_POLICY = "bench"
YEARS = 5
UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = 1_000_000
DAY = 86_400 * US
HOUR = 3_600 * US
BATCH = 50_000

# Counts at scale 1.0.
BASE = {"centres": 30, "employees": 5_000, "systems": 60, "grants": 50_000,
        "audit_entries": 1_000_000, "pending": 300, "rejected": 2_000, "withdrawn": 200,
        "refused": 3_000}
MINIMUM = {"centres": 2, "employees": 60, "systems": 3, "grants": 20, "audit_entries": 0,
           "pending": 3, "rejected": 3, "withdrawn": 2, "refused": 3}
LEAVER_SHARE = 0.02            # of the generated employees
UNFULFILLED_SHARE = 0.015      # grants approved recently and not yet created in the system
REVOKED_BY_HAND_SHARE = 0.10   # grants revoked by an approver or the admin at some point
FORGOTTEN_SHARE = 0.015        # grants whose review is simply never done
REVIEW_REVOKE_SHARE = 0.03     # reviews that end the grant
ACK_LAPSE_SHARE = 0.08         # yearly acknowledgements that are not renewed in time

FIRST_NAMES = ["Anne", "Mette", "Hanne", "Susanne", "Lene", "Marianne", "Camilla", "Louise",
               "Pia", "Charlotte", "Maria", "Tina", "Karen", "Helle", "Sofie", "Ida", "Emma",
               "Freja", "Julie", "Sara", "Peter", "Michael", "Lars", "Thomas", "Jens",
               "Henrik", "Søren", "Martin", "Jan", "Niels", "Christian", "Rasmus", "Mads",
               "Anders", "Jesper", "Morten", "Frederik", "Mikkel", "Kasper", "Ahmed",
               "Fatima", "Ali", "Aisha", "Omar", "Zeynep"]
LAST_NAMES = ["Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
              "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen",
              "Olsen", "Thomsen", "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen",
              "Karimi", "Yilmaz", "Hussein", "Kowalski", "Holm", "Bech", "Lund", "Dahl"]
TITLES = ["Sagsbehandler", "Socialrådgiver", "Jobkonsulent", "Kontrolmedarbejder",
          "Dataanalytiker", "Administrativ medarbejder", "Teamleder", "Specialkonsulent",
          "Økonomimedarbejder", "Fuldmægtig", "Borgerservicemedarbejder", "Familierådgiver"]
CENTRE_AREAS = ["Borgerservice", "Beskæftigelse", "Ydelser", "Familie", "Børn og Unge",
                "Skole", "Dagtilbud", "Sundhed", "Ældre", "Handicap", "Psykiatri", "Integration",
                "Byg og Miljø", "Vej og Park", "Ejendomme", "IT", "Økonomi", "Personale",
                "Kultur", "Fritid", "Klima", "Plan", "Erhverv", "Sekretariat", "Digitalisering",
                "Indkøb", "Løn", "Kommunikation", "Jura", "Analyse"]
SYSTEM_KINDS = ["Borgerservice", "Ydelse", "Jobcenter", "Familie", "Skole", "Dagtilbud",
                "Ældrepleje", "Handicap", "Byggesag", "Ejendom", "Miljø", "Sundhed",
                "Integration", "Boligstøtte", "Opkrævning", "Løn", "Personale", "Arkiv",
                "Analyse", "Økonomi"]
SYSTEM_SUFFIXES = ["Sag", "Data", "Portal", "Register", "Net", "Web", "Pro", "Plus"]
VENDORS = ["KOMBIT", "Netcompany", "KMD", "Systematic", "Formpipe", "EG", "Fujitsu",
           "Schultz", "Høje-Taastrup Kommune", "Styrelsen for Dataforsyning"]
TASKS = [
    "Kontrol af lovligt ophold for EU-borgere i konkrete sager om kontanthjælp",
    "Opslag af adresse- og familieforhold ved kontrol af bopæl i ydelsessager",
    "Sagsbehandling af ansøgninger om økonomisk hjælp og kontrol af indtægtsgrundlag",
    "Kontrol af beskæftigelse og indkomst ved tilbagebetalingssager",
    "Afklaring af borgerens sager på tværs af forvaltningen ved helhedsorienteret indsats",
    "Kontrol af virksomhedsoplysninger ved sager om socialt bedrageri",
    "Opfølgning på underretninger om mulig uberettiget modtagelse af ydelser",
    "Visitation og opfølgning i sager om boligstøtte og personlige tillæg",
    "Behandling af sager om friplads og økonomisk støtte til dagtilbud",
    "Registrering og opfølgning på kontrolbesøg i konkrete sager",
    "Udarbejdelse af kontrolrapporter og opfølgning på resultater i sagerne",
    "Kontrol af opholdsgrundlag og statsborgerskab ved ansøgning om ydelser",
]
JUSTIFICATIONS = [
    "Skriveadgang er nødvendig for at registrere kontrolresultater direkte i sagen",
    "Sagsdetaljer er nødvendige for at vurdere, om betingelserne for ydelsen er opfyldt",
    "Kontrolteamet skal kunne journalisere dokumentation i de konkrete sager",
    "Detaljeret adgang er nødvendig i tilbagebetalingssager, hvor beløbet skal opgøres",
]
APPROVE_COMMENTS = ["", "", "Godkendt", "Behovet er beskrevet", "OK, arbejdsbetinget behov",
                    "Godkendt efter drøftelse med teamlederen"]
REJECT_COMMENTS = ["Behovet er ikke løbende; brug kontaktpersonen",
                   "Opgaverne kan løses med overordnede oplysninger",
                   "Medarbejderen har allerede tilsvarende adgang i et andet system",
                   "Beskriv de konkrete arbejdsopgaver nærmere og søg igen"]
KEEP_COMMENTS = ["Behovet består; adgangen bruges dagligt i kontrolarbejdet",
                 "Fortsat relevant for medarbejderens opgaver",
                 "Behovet består uændret", "Bruges ugentligt i sagsbehandlingen"]
REVOKE_COMMENTS = ["Behovet er ophørt", "Adgangen er ikke brugt det seneste år",
                   "Opgaven er flyttet til et andet team"]
REVOKE_REASONS = ["Opgaven er flyttet til et andet team", "Behovet er ophørt",
                  "Medarbejderen har skiftet stilling", "Adgangen blev ikke brugt",
                  "Projektet er afsluttet", "Erstattet af en anden adgang"]
REQUEST_CHECKS = ["LEVEL_NOT_ALLOWED", "SCOPE_NOT_ALLOWED", "NEED_UNDOCUMENTED",
                  "NEED_NOT_RECURRING", "WRITE_UNJUSTIFIED", "AREA_NOT_GRANTABLE",
                  "SPECIAL_CATEGORY", "GRANTEE_INACTIVE", "DUPLICATE_ACCESS"]
LEVEL_SCOPE_WEIGHTS = {("read", "summary"): 70, ("read", "detail"): 15,
                       ("write", "summary"): 10, ("write", "detail"): 5}
FREQUENCIES = (["daily"] * 5) + (["weekly"] * 3) + (["monthly"] * 2)


@dataclass(frozen=True)
class Plan:
    centres: int
    employees: int
    systems: int
    grants: int
    audit_entries: int
    pending: int
    rejected: int
    withdrawn: int
    refused: int
    leavers: int

    @classmethod
    def at(cls, scale: float) -> "Plan":
        if scale <= 0:
            raise SystemExit("--scale must be positive")
        n = {key: max(MINIMUM[key], round(value * scale)) for key, value in BASE.items()}
        # Every live grant gets its own (grantee, system) pair, so the pairs must suffice.
        n["grants"] = min(n["grants"], n["employees"] * (n["systems"] + 7) // 3)
        return cls(**n, leavers=max(1, round(n["employees"] * LEAVER_SHARE)))


# --- time -----------------------------------------------------------------------------

def to_us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


@lru_cache(maxsize=None)
def day_start(day: date) -> int:
    """Local midnight of a day, in microseconds since the epoch."""
    from governance.services.clock import MUNICIPAL_TZ
    return to_us(datetime(day.year, day.month, day.day, tzinfo=MUNICIPAL_TZ).astimezone(UTC))


def local_date(us: int) -> date:
    from governance.services.clock import MUNICIPAL_TZ
    return from_us(us).astimezone(MUNICIPAL_TZ).date()


class Timer:
    def __init__(self, quiet: bool = False):
        self.quiet, self.started, self.last = quiet, time.perf_counter(), time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self.last
        self.last = now
        self.say(f"  {name:<46} {self.laps[name]:7.1f} s")

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started


# --- the database -----------------------------------------------------------------------

def command_line_url(url: str) -> str:
    """The URL as a person on the command line means it: a relative SQLite path is taken
    from the current directory (Flask-SQLAlchemy would look for it under instance/)."""
    url = database_url(url)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        path = url[len("sqlite:///"):]
        if path and path != ":memory:" and not path.startswith("file:"):
            url = f"sqlite:///{Path(path).resolve()}"
    return url


def prepare_database(url: str, reset: bool) -> None:
    """SQLite: the file (removed first with reset). PostgreSQL: the database, created if
    missing (dropped and created again with reset)."""
    parts = urlsplit(url)
    name = Path(url.split("///", 1)[-1]).name if url.startswith("sqlite") else \
        parts.path.lstrip("/")
    if reset and "bench" not in name:
        raise SystemExit(f"Refusing to reset '{name}': --reset only replaces a database "
                         "whose name contains 'bench'.")
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1]) if "///" in url else None
        if path is None or str(path) in ("", ":memory:"):
            raise SystemExit("Give a SQLite file: sqlite:///path/to/bench.sqlite")
        path.parent.mkdir(parents=True, exist_ok=True)
        if reset:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        return
    admin = sa.create_engine(urlunsplit(parts._replace(path="/postgres")),
                             isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name})
            if exists and reset:
                conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = False
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()


def is_empty(engine) -> bool:
    inspector = sa.inspect(engine)
    if "audit_head" not in inspector.get_table_names():
        return True
    with engine.connect() as conn:
        return not conn.scalar(sa.text("SELECT count(*) FROM employees"))


def tune(conn) -> None:
    """Generation only: SQLite may skip fsync and keep the indexes in a large cache."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
        conn.exec_driver_sql("PRAGMA cache_size=-1000000")
        conn.exec_driver_sql("PRAGMA temp_store=MEMORY")


def bulk_insert(conn, table: sa.Table, rows: list[tuple], columns: list[str] | None = None
                ) -> None:
    """Insert rows given as tuples in column order: Core executemany in batches, or COPY
    on PostgreSQL. Values are Python values; JSON columns take Python lists."""
    if not rows:
        return
    columns = columns or [c.name for c in table.columns]
    if conn.dialect.name == "postgresql":
        json_at = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, sa.JSON)]
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    if json_at:
                        row = list(row)
                        for i in json_at:
                            row[i] = json.dumps(row[i])
                    copy.write_row(row)
        return
    statement = table.insert()
    for start in range(0, len(rows), BATCH):
        conn.execute(statement, [dict(zip(columns, row)) for row in rows[start:start + BATCH]])


# --- the people, systems and history, in memory ------------------------------------------

class Person:
    __slots__ = ("id", "username", "name", "email", "centre_id", "title", "roles", "status",
                 "left_us", "address", "generated")

    def __init__(self, id, username, name, email, centre_id, title, roles, generated):
        self.id, self.username, self.name, self.email = id, username, name, email
        self.centre_id, self.title, self.roles, self.generated = centre_id, title, roles, generated
        self.status, self.left_us = "active", None
        self.address = f"10.{20 + (id >> 16) % 200}.{(id >> 8) % 256}.{id % 256}"


class Sys:
    __slots__ = ("id", "code", "name", "description", "external_owner", "owner", "levels",
                 "scopes", "categories", "admins", "areas", "purpose", "offers", "weight")


class Req:
    __slots__ = ("id", "created", "requester", "grantee", "system", "level", "scope", "purpose",
                 "tasks", "frequency", "categories", "justification", "needed", "status",
                 "decisions", "decided", "closed_by", "grant")

    def __init__(self, **values):
        self.id, self.decisions, self.decided = None, [], None
        self.closed_by = self.grant = None
        for key, value in values.items():
            setattr(self, key, value)


class Dec:
    __slots__ = ("id", "request", "approver", "decision", "comment", "at")

    def __init__(self, request, approver, decision, comment, at):
        self.id, self.request, self.approver = None, request, approver
        self.decision, self.comment, self.at = decision, comment, at


class Gr:
    __slots__ = ("id", "request", "approved", "fulfilled", "fulfiller", "activated",
                 "activator", "first_due", "due", "ended", "end_reason", "ended_by",
                 "end_action", "removed", "remover", "reviews", "revoke_at", "forgotten")

    def __init__(self, request, approved):
        self.id, self.request, self.approved = None, request, approved
        self.fulfilled = self.fulfiller = self.activated = self.activator = None
        self.first_due = self.due = self.ended = self.end_reason = self.ended_by = None
        self.end_action = self.removed = self.remover = self.revoke_at = None
        self.reviews, self.forgotten = [], False

    @property
    def status(self) -> str:
        return "revoked" if self.ended else "active" if self.activated else "approved"


class Rev:
    __slots__ = ("id", "grant", "reviewer", "decision", "comment", "at", "on", "before", "after")

    def __init__(self, grant, reviewer, decision, comment, at, on, before, after):
        self.id, self.grant, self.reviewer, self.decision = None, grant, reviewer, decision
        self.comment, self.at, self.on, self.before, self.after = comment, at, on, before, after


class Generator:
    def __init__(self, plan: Plan, seed: int, today: date, now_us: int):
        self.plan, self.rng = plan, random.Random(seed)
        self.today, self.now_us = today, now_us
        self.start_day = add_months(today, -12 * YEARS)
        self.start_us = day_start(self.start_day)
        self.t0 = day_start(self.start_day - timedelta(days=7)) + 8 * HOUR
        self.people: list[Person] = []
        self.by_name: dict[str, Person] = {}
        self.centres: list[tuple] = []          # (id, code, name, manager id) of generated ones
        self.centre_codes: dict[int, str] = {}
        self.systems: list[Sys] = []
        self.categories: dict[str, tuple[int, str]] = {}   # code -> (id, kind)
        self.requests: list[Req] = []
        self.grants: list[Gr] = []
        self.reviews: list[Rev] = []
        self.acks: list[tuple[int, Person]] = []
        self.refused: list[tuple] = []

    # register ---------------------------------------------------------------------------

    def read_seeded(self, session) -> None:
        from governance.models import Centre, DataCategory, Employee, System
        for centre in session.scalars(sa.select(Centre)):
            self.centre_codes[centre.id] = centre.code
        for e in session.scalars(sa.select(Employee).order_by(Employee.id)):
            person = Person(e.id, e.username, e.name, e.email, e.centre_id, e.title,
                            sorted(e.roles), generated=False)
            self.people.append(person)
            self.by_name[e.username] = person
        for c in session.scalars(sa.select(DataCategory)):
            self.categories[c.code] = (c.id, c.kind)
        for s in session.scalars(sa.select(System).order_by(System.id)):
            system = Sys()
            system.id, system.code, system.levels, system.scopes = s.id, s.code, list(
                s.access_levels), list(s.scopes)
            system.categories = [c.code for c in s.categories]
            system.admins = [self.by_name[a.username] for a in s.user_admins]
            system.purpose = "eu-oest"
            self.systems.append(system)
        self.approvers = [self.by_name["kfi"], self.by_name["tko"]]
        self.admin = self.by_name["admin"]

    def make_register(self, next_ids: dict[str, int]) -> None:
        rng, plan = self.rng, self.plan
        centre_id = next_ids["centres"]
        for i in range(plan.centres):
            area = CENTRE_AREAS[i % len(CENTRE_AREAS)]
            code = f"B{i + 1:02d}" if plan.centres < 100 else f"B{i + 1:04d}"
            name = f"Center for {area}" + (f" {i // len(CENTRE_AREAS) + 1}"
                                            if i >= len(CENTRE_AREAS) else "")
            self.centres.append([centre_id + i, code, name, None])
            self.centre_codes[centre_id + i] = code
        employee_id = next_ids["employees"]
        width = max(5, len(str(plan.employees)))
        generated = []
        for i in range(plan.employees):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            username = f"b{i + 1:0{width}d}"
            person = Person(employee_id + i, username, f"{first} {last}",
                            f"{username}@bench.htk.dk", rng.choice(self.centres)[0],
                            rng.choice(TITLES), ["requester"], generated=True)
            generated.append(person)
        self.people.extend(generated)
        self.by_name.update((p.username, p) for p in generated)
        pool = rng.sample(generated, max(2, min(len(generated) // 4,
                                                 round(plan.systems * 1.7))))
        for person in pool:
            person.roles = ["requester", "user_admin"]
        managers = rng.sample([p for p in generated if p not in pool], len(self.centres))
        for centre, manager in zip(self.centres, managers):
            centre[3] = manager.id
            manager.title = "Centerchef"
        ordinary = [code for code, (_id, kind) in self.categories.items()
                    if kind not in (CategoryKind.SPECIAL, CategoryKind.CRIMINAL)]
        sensitive = [code for code, (_id, kind) in self.categories.items()
                     if kind in (CategoryKind.SPECIAL, CategoryKind.CRIMINAL)]
        system_id, area_id = next_ids["systems"], next_ids["non_grantable_areas"]
        self.new_areas = []
        contacts = set()
        for i in range(plan.systems):
            s = Sys()
            s.id = system_id + i
            s.code = f"BS{i + 1:03d}" if plan.systems < 1000 else f"BS{i + 1:05d}"
            kind = SYSTEM_KINDS[i % len(SYSTEM_KINDS)]
            s.name = f"{kind}{rng.choice(SYSTEM_SUFFIXES)} {i + 1}"
            s.description = f"Fagsystem for {kind.lower()}området."
            s.external_owner = rng.choice(VENDORS)
            s.owner = self.by_name[rng.choice(["kfi", "tko"])] if rng.random() < 0.3 else \
                rng.choice(managers)
            s.levels = ["read", "write"] if rng.random() < 0.3 else ["read"]
            s.scopes = ["summary", "detail"] if rng.random() < 0.5 else ["summary"]
            held = ["identity"] + rng.sample([c for c in ordinary if c != "identity"],
                                             rng.randint(2, 5))
            if rng.random() < 0.25:
                held.append(rng.choice(sensitive))
            s.categories = sorted(held)
            s.admins = rng.sample(pool, 2 if rng.random() < 0.4 else 1)
            s.purpose = BENCH_POLICY
            s.areas = []
            if "detail" in s.scopes and rng.random() < 0.5:
                touched = [c for c in ("case_documents", "family") if c in held][:1]
                s.areas.append(("detail_cases", "Sagsdetaljer i særlige sager",
                                "Details of special cases", ["detail"], touched))
            if rng.random() < 0.2:
                category = rng.choice([c for c in held if c in ordinary and c != "identity"])
                s.areas.append(("restricted", f"Oplysninger om {category} i lukkede sager",
                                f"{category} in closed cases", [], [category]))
            resolved = []
            for key, name_da, name_en, scopes, cats in s.areas:
                contact = rng.choice(generated)
                contacts.add(contact.id)
                resolved.append((area_id, key, name_da, name_en, scopes, cats, contact))
                area_id += 1
            s.areas = resolved
            self.systems.append(s)
        self.new_systems = self.systems[-plan.systems:]
        self.generated = generated
        # Leavers: never someone the register leans on (user admins, managers, contacts).
        keep = {p.id for p in pool} | {m.id for m in managers} | contacts
        leavers = self.rng.sample([p for p in generated if p.id not in keep], plan.leavers)
        first, last = self.start_us + 365 * DAY, day_start(self.today) - 7 * DAY
        for person in leavers:
            person.left_us = self.work_moment(local_date(rng.randint(first, last)))

    def work_moment(self, day: date) -> int:
        """A moment in working hours (07:30-16:00 local) on the day."""
        return day_start(day) + int(7.5 * HOUR) + self.rng.randrange(int(8.5 * HOUR))

    def register_rows(self) -> dict[str, list[tuple]]:
        t0 = from_us(self.t0)
        rows = {
            "centres": [(c[0], c[1], c[2], None) for c in self.centres],
            "employees": [(p.id, p.username, p.name, p.email, p.centre_id, p.title,
                           "left" if p.left_us else "active",
                           local_date(p.left_us) if p.left_us else None, None,
                           2 if p.left_us else 1, t0) for p in self.generated],
            "employee_roles": [(p.id, role) for p in self.generated for role in p.roles],
            "systems": [(s.id, s.code, s.name, s.description, s.external_owner, s.owner.id,
                         s.levels, s.scopes) for s in self.new_systems],
            "system_categories": [(s.id, self.categories[c][0]) for s in self.new_systems
                                  for c in s.categories],
            "system_user_admins": [(s.id, p.id) for s in self.new_systems for p in s.admins],
            "non_grantable_areas": [(a[0], s.id, a[1], a[2], a[3], a[4], a[5], a[6].id)
                                    for s in self.new_systems for a in s.areas],
        }
        return rows

    def register_events(self) -> list[tuple]:
        """The seeding service's entries for what the register phase created."""
        events, t = [], self.t0 + HOUR

        def add(kind, key, before, after, verb="create"):
            nonlocal t
            t += 1000
            events.append((t, "system", f"seed.{verb}", kind, key,
                           f"Seed {'updated' if verb == 'update' else 'created'} {kind} {key}",
                           {"before": before, "after": after}, "bench"))
        for c in self.centres:
            add("centre", c[1], None, {"name": c[2]})
        for p in self.generated:
            add("employee", p.username, None, {
                "name": p.name, "email": p.email, "centre": self.centre_codes[p.centre_id],
                "title": p.title, "roles": sorted(p.roles), "status": "active"})
        names = {p.id: p.username for p in self.people}
        for c in self.centres:
            add("centre", c[1], {"manager": None}, {"manager": names[c[3]]}, "update")
        for s in self.new_systems:
            add("system", s.code, None, {
                "name": s.name, "description": s.description,
                "external_owner": s.external_owner, "owner": s.owner.username,
                "user_admins": sorted(p.username for p in s.admins),
                "access_levels": s.levels, "scopes": s.scopes,
                "data_categories": sorted(s.categories),
                "non_grantable_areas": [{"key": a[1], "name_da": a[2], "name_en": a[3],
                                         "scopes": a[4], "categories": a[5],
                                         "contact": a[6].username} for a in s.areas]})
        return events

    def policy_document(self) -> dict:
        """The purpose policy 'bench': every generated system, as the register allows it."""
        with open(POLICY_PATH / "eu-oest.yaml", encoding="utf-8") as handle:
            model = yaml.safe_load(handle)
        return {
            "id": BENCH_POLICY, "name_da": "Benchmark: kommunens fagsystemer",
            "name_en": "Benchmark: the municipality's line-of-business systems",
            "decision": "Genereret af bench.generate (ikke en rigtig beslutning)",
            "approvers": [{"username": "kfi", "name": "Klaus Fisker"},
                          {"username": "tko", "name": "Tina Koudal"}],
            "default_access_level": "read",
            "dual_approval": {"access_levels": ["write"], "scopes": ["detail"]},
            "review_interval_months": 12, "review": model["review"],
            "need_documentation": model["need_documentation"],
            "recurring_frequencies": model["recurring_frequencies"],
            "forbidden_categories": model["forbidden_categories"],
            "systems": [{"code": s.code, "access_levels": s.levels, "scopes": s.scopes}
                        for s in self.new_systems],
            "non_grantable_areas": [{"system": s.code, "area": a[1]}
                                    for s in self.new_systems for a in s.areas],
        }

    # what can be granted ----------------------------------------------------------------

    def compute_offers(self, in_force) -> None:
        """Per system, the (level, scope, categories) the policy in force lets a request
        pass with, found by the domain's own rules."""
        for rank, s in enumerate(self.rng.sample(self.systems, len(self.systems))):
            s.weight = 1 / (rank + 1) ** 0.5
            policy = in_force.policies[s.purpose]
            s.offers = []
            for (level, scope), weight in LEVEL_SCOPE_WEIGHTS.items():
                if failures(check_system(ProposedRequest("x", True, s.code, level, scope,
                                                         policy.id, "", ""), policy)):
                    continue
                ok = [c for c in s.categories if self.passes(policy, s, level, scope, (c,))]
                if ok and self.passes(policy, s, level, scope, ()):
                    s.offers.append((level, scope, ok, weight))
        self.systems_with_offers = [s for s in self.systems if s.offers]
        self.in_force = in_force

    @staticmethod
    def passes(policy, s: Sys, level: str, scope: str, categories: tuple) -> bool:
        req = ProposedRequest("x", True, s.code, level, scope, policy.id, "", "", categories)
        return not failures([*check_system(req, policy), *check_areas(req, policy),
                             check_special_categories(req, policy)])

    def choose_access(self, s: Sys):
        rng = self.rng
        level, scope, ok, _w = rng.choices(s.offers, [o[3] for o in s.offers])[0]
        categories = tuple(rng.sample(ok, min(len(ok), rng.randint(1, 4))))
        policy = self.in_force.policies[s.purpose]
        return level, scope, categories, policy.approvals_needed(level, scope)

    # the history ------------------------------------------------------------------------

    def simulate(self) -> None:
        rng, plan = self.rng, self.plan
        last_day = self.today - timedelta(days=1)
        span = (last_day - self.start_day).days
        systems = self.systems_with_offers
        weights = [s.weight for s in systems]
        grantees = [p for p in self.generated]
        requesters = [p for p in self.generated if p.left_us is None]
        used: set[tuple[int, int]] = set()
        load = {s.id: 0 for s in systems}

        def pair(active_only: bool = False):
            for _attempt in range(200):
                s = rng.choices(systems, weights)[0]
                p = rng.choice(requesters if active_only else grantees)
                if (p.id, s.id) not in used:
                    used.add((p.id, s.id))
                    return p, s
            raise RuntimeError("no free (grantee, system) pair left; lower --scale")

        def new_request(grantee, s, created, status) -> Req:
            level, scope, categories, needed = self.choose_access(s)
            requester = (grantee if rng.random() < 0.7 or grantee.left_us
                         else rng.choice(requesters))
            req = Req(created=created, requester=requester, grantee=grantee, system=s,
                      level=level, scope=scope, purpose=s.purpose, tasks=rng.choice(TASKS),
                      frequency=rng.choice(FREQUENCIES), categories=categories,
                      justification=rng.choice(JUSTIFICATIONS) if needed == 2 else "",
                      needed=needed, status=status)
            self.requests.append(req)
            return req

        def decide(req: Req, at: int, final: str) -> int:
            order = rng.sample(self.approvers, 2)
            steps = req.needed if final == "approve" else rng.randint(1, req.needed)
            for i in range(steps):
                at += rng.randint(10 * 60 * US, 3 * DAY)
                decision = final if i == steps - 1 else "approve"
                comment = rng.choice(REJECT_COMMENTS if decision == "reject"
                                     else APPROVE_COMMENTS)
                req.decisions.append(Dec(req, order[i], decision, comment, at))
            req.decided = at
            return at

        # Granted requests, and what became of the grants.
        unfulfilled = set(rng.sample(range(plan.grants), round(plan.grants * UNFULFILLED_SHARE)))
        for i in range(plan.grants):
            grantee, s = pair()
            load[s.id] += 1
            if i in unfulfilled:
                first = max(0, span - 40)
                day = self.start_day + timedelta(days=rng.randint(first, span - 8))
            else:
                # Decisions take up to 6 days: all of them are decided before today.
                day = self.start_day + timedelta(days=rng.randint(1, span - 8))
            created = self.work_moment(day)
            if grantee.left_us and created >= grantee.left_us - 3 * DAY:
                latest = (grantee.left_us - self.start_us) // DAY - 4
                created = self.work_moment(self.start_day + timedelta(days=rng.randint(1, latest)))
            req = new_request(grantee, s, created, "approved")
            approved = decide(req, created, "approve") + 2000
            grant = Gr(req, approved)
            req.grant = grant
            self.grants.append(grant)
            if i not in unfulfilled:
                fulfilled = approved + rng.randint(HOUR, 5 * DAY)
                limit = min(self.now_us - HOUR, grantee.left_us or self.now_us)
                if fulfilled < limit:
                    grant.fulfilled, grant.fulfiller = fulfilled, rng.choice(s.admins)
            if rng.random() < REVOKED_BY_HAND_SHARE:
                grant.revoke_at = rng.randint(30 * DAY, 4 * 365 * DAY)
            grant.forgotten = rng.random() < FORGOTTEN_SHARE
        self.load = load
        self.acknowledge_and_activate()
        for grant in self.grants:
            self.live_on(grant)

        # Requests that did not become grants.
        for _ in range(plan.pending):
            grantee, s = pair(active_only=True)
            day = last_day - timedelta(days=rng.randint(0, 20))
            req = new_request(grantee, s, self.work_moment(day), "pending")
            if req.needed == 2 and rng.random() < 0.4:
                at = req.created + rng.randint(10 * 60 * US, 2 * DAY)
                if at < self.now_us:
                    req.decisions.append(Dec(req, rng.choice(self.approvers), "approve",
                                             rng.choice(APPROVE_COMMENTS), at))
        for status, count in (("rejected", plan.rejected), ("withdrawn", plan.withdrawn)):
            for _ in range(count):
                grantee = rng.choice(requesters)
                s = rng.choices(systems, weights)[0]
                day = self.start_day + timedelta(days=rng.randint(1, span - 8))
                req = new_request(grantee, s, self.work_moment(day), status)
                if status == "rejected":
                    decide(req, req.created, "reject")
                else:
                    req.decided = req.created + rng.randint(HOUR, 5 * DAY)
                    req.closed_by = req.requester
        for _ in range(plan.refused):
            grantee = rng.choice(requesters)
            s = rng.choices(systems, weights)[0]
            day = self.start_day + timedelta(days=rng.randint(1, span - 1))
            self.refused.append((self.work_moment(day), grantee, s))

    def acknowledge_and_activate(self) -> None:
        """Activation waits for a current acknowledgement (P3), as services/grants.py does:
        fulfilled with a current one, the grant is active at once; without, it is active
        when the grantee acknowledges. Acknowledgements are renewed about yearly."""
        rng = self.rng
        by_person: dict[int, list[Gr]] = {}
        for grant in self.grants:
            if grant.fulfilled:
                by_person.setdefault(grant.request.grantee.id, []).append(grant)
        people = {p.id: p for p in self.people}
        for person_id, grants in by_person.items():
            person = people[person_id]
            grants.sort(key=lambda g: g.fulfilled)
            limit = min(self.now_us - HOUR, person.left_us or self.now_us)
            acks: list[int] = []
            state = {"last": None, "renewing": False}
            waiting: list[Gr] = []
            scheduled = None

            def record(at: int) -> None:
                nonlocal waiting
                acks.append(at)
                state["last"], state["renewing"] = at, True
                for g in waiting:
                    g.activated, g.activator = at + 2000, person
                waiting = []

            def renew_until(t: int) -> None:
                while state["renewing"] and state["last"] is not None:
                    nxt = state["last"] + rng.randint(320 * DAY, 362 * DAY)
                    if nxt >= t or nxt >= limit:
                        return
                    if rng.random() < ACK_LAPSE_SHARE:
                        state["renewing"] = False
                        return
                    record(nxt)

            for grant in grants:
                if scheduled is not None and scheduled <= grant.fulfilled:
                    record(scheduled)
                    scheduled = None
                renew_until(grant.fulfilled)
                last = state["last"]
                if last is not None and acknowledgement_current(local_date(last),
                                                                local_date(grant.fulfilled)):
                    grant.activated, grant.activator = grant.fulfilled + 1000, grant.fulfiller
                    continue
                waiting.append(grant)
                if scheduled is None:
                    scheduled = grant.fulfilled + rng.randint(10 * 60 * US, 4 * DAY)
            if scheduled is not None and scheduled < limit:
                record(scheduled)
            renew_until(limit)
            self.acks.extend((at, person) for at in acks)

    def live_on(self, grant: Gr) -> None:
        """Reviews every year (P5), revocation by hand, by review or as a leaver; removal."""
        rng = self.rng
        req = grant.request
        person = req.grantee
        end_limit = min(self.now_us, person.left_us or self.now_us)
        if grant.activated:
            grant.first_due = grant.due = add_months(local_date(grant.activated), 12)
            planned = grant.activated + grant.revoke_at if grant.revoke_at else None
            stop = min(end_limit, planned or end_limit)
            while not grant.forgotten:
                u = rng.random()
                offset = (-rng.uniform(0, 30) if u < 0.75 else rng.uniform(1, 45) if u < 0.95
                          else rng.uniform(46, 200))
                day = grant.due + timedelta(days=int(offset))
                at = self.work_moment(day)
                previous = grant.reviews[-1].at if grant.reviews else grant.activated
                if at <= previous:
                    at = previous + HOUR
                if at >= stop:
                    break
                reviewer = rng.choice(self.approvers)
                on = local_date(at)
                if rng.random() < REVIEW_REVOKE_SHARE:
                    comment = rng.choice(REVOKE_COMMENTS)
                    grant.reviews.append(Rev(grant, reviewer, "revoke", comment, at, on,
                                             grant.due, None))
                    self.end(grant, at + 2000, f"review: {comment}"[:300], reviewer,
                             "grant.revoke")
                    break
                after = add_months(on, 12)
                grant.reviews.append(Rev(grant, reviewer, "keep", rng.choice(KEEP_COMMENTS),
                                         at, on, grant.due, after))
                grant.due = after
            if not grant.ended and planned and planned < end_limit:
                self.end(grant, planned, rng.choice(REVOKE_REASONS),
                         rng.choice(self.approvers + [self.admin]), "grant.revoke")
        if not grant.ended and person.left_us and person.left_us < self.now_us:
            self.end(grant, person.left_us + rng.randint(1000, 60 * US), "left", self.admin,
                     "grant.revoke")
        if grant.ended and grant.fulfilled:
            recent = grant.ended > self.now_us - 60 * DAY
            if not recent or rng.random() < 0.6:
                removed = grant.ended + rng.randint(HOUR, 10 * DAY)
                if removed < self.now_us - HOUR:
                    grant.removed, grant.remover = removed, rng.choice(req.system.admins)

    @staticmethod
    def end(grant: Gr, at: int, reason: str, by: Person, action: str) -> None:
        grant.ended, grant.end_reason, grant.ended_by, grant.end_action = at, reason, by, action

    # ids and rows -----------------------------------------------------------------------

    def assign_ids(self, next_ids: dict[str, int]) -> None:
        self.requests.sort(key=lambda r: r.created)
        for i, req in enumerate(self.requests):
            req.id = next_ids["access_requests"] + i
        decisions = sorted((d for r in self.requests for d in r.decisions), key=lambda d: d.at)
        for i, d in enumerate(decisions):
            d.id = next_ids["decisions"] + i
        self.decisions = decisions
        self.grants.sort(key=lambda g: g.approved)
        for i, grant in enumerate(self.grants):
            grant.id = next_ids["grants"] + i
        self.reviews = sorted((r for g in self.grants for r in g.reviews), key=lambda r: r.at)
        for i, review in enumerate(self.reviews):
            review.id = next_ids["reviews"] + i
        self.acks.sort(key=lambda a: a[0])
        self.ack_start = next_ids["acknowledgements"]

    def object_rows(self, principles_sha: str) -> dict[str, list[tuple]]:
        rows: dict[str, list[tuple]] = {}
        rows["access_requests"] = [
            (r.id, r.requester.id, r.grantee.id, r.system.id, r.level, r.scope, r.purpose,
             r.tasks, r.frequency, list(r.categories), r.justification, r.needed, r.status,
             1 + len(r.decisions) + (r.status == "withdrawn"), from_us(r.created),
             from_us(r.decided) if r.decided and r.status != "pending" else None)
            for r in self.requests]
        rows["decisions"] = [(d.id, d.request.id, d.approver.id, d.decision, d.comment,
                              from_us(d.at)) for d in self.decisions]
        rows["grants"] = [
            (g.id, g.request.id, g.request.grantee.id, g.request.system.id, g.request.level,
             g.request.scope, g.request.purpose, g.request.tasks, g.request.frequency,
             list(g.request.categories), g.status, from_us(g.approved), _dt(g.fulfilled),
             _dt(g.activated), g.due, _dt(g.ended), g.end_reason,
             g.ended_by.id if g.ended_by else None, _dt(g.removed))
            for g in self.grants]
        rows["reviews"] = [(r.id, r.grant.id, r.reviewer.id, r.decision, r.comment, r.on,
                            r.before, r.after, from_us(r.at)) for r in self.reviews]
        rows["acknowledgements"] = [(self.ack_start + i, person.id, principles_sha,
                                     from_us(at)) for i, (at, person) in enumerate(self.acks)]
        return rows

    # audit entries ----------------------------------------------------------------------

    def history_events(self, principles_sha: str) -> list[tuple]:
        """Every entry the services would have written for the simulated history:
        (time, actor, action, object type, object id, summary, details, client)."""
        from governance.services.audit import canonical_details
        events: list[tuple] = []

        def add(event: tuple) -> None:
            """Kept with its details already in canonical JSON: a third of the memory."""
            events.append((*event[:6], canonical_details(event[6]), event[7]))
        for r in self.requests:
            who = r.requester
            add((r.created, who.username, "request.create", "request", r.id,
                 f"{who.username} requested {r.level}/{r.scope} access to {r.system.code} "
                 f"for {r.grantee.username}",
                 {"after": {"id": r.id, "requester": who.username, "grantee": r.grantee.username,
                            "system": r.system.code, "access_level": r.level, "scope": r.scope,
                            "purpose": r.purpose, "tasks": r.tasks, "frequency": r.frequency,
                            "data_categories": list(r.categories),
                            "write_justification": r.justification, "status": "pending",
                            "approvals_needed": r.needed},
                  "checks": REQUEST_CHECKS}, who.address))
            approvals = 0
            for d in r.decisions:
                approvals += d.decision == "approve"
                final = d.decision == "reject" or approvals >= r.needed
                status = ("rejected" if d.decision == "reject" else "approved") if final \
                    else "pending"
                verb = "approved" if d.decision == "approve" else "rejected"
                add((d.at, d.approver.username, f"request.{d.decision}", "request", r.id,
                     f"{d.approver.username} {verb} request {r.id}"
                     + ("" if final else f" ({approvals} of {r.needed})"),
                     {"before": {"status": "pending"}, "after": {"status": status},
                      "comment": d.comment}, d.approver.address))
            if r.status == "withdrawn":
                add((r.decided, r.closed_by.username, "request.withdraw", "request", r.id,
                     f"{r.closed_by.username} withdrew request {r.id}",
                     {"before": {"status": "pending"}, "after": {"status": "withdrawn"}},
                     r.closed_by.address))
        for g in self.grants:
            self.grant_events(g, add)
        for at, person in self.acks:
            add((at, person.username, "acknowledgement.create", "employee", person.username,
                 f"{person.username} acknowledged the lookup principles",
                 {"principles_sha256": principles_sha}, person.address))
        for person in self.generated:
            if person.left_us:
                left_on = local_date(person.left_us).isoformat()
                add((person.left_us, self.admin.username, "employee.left", "employee",
                     person.username, f"{person.username} has left; all access is revoked",
                     {"before": {"status": "active"},
                      "after": {"status": "left", "left_on": left_on}}, "10.0.0.5"))
        codes = [("NEED_NOT_RECURRING", 30), ("SPECIAL_CATEGORY", 20),
                 ("AREA_NOT_GRANTABLE", 15), ("NEED_UNDOCUMENTED", 15),
                 ("WRITE_UNJUSTIFIED", 10), ("DUPLICATE_ACCESS", 10)]
        for at, grantee, s in self.refused:
            refused = sorted({self.rng.choices([c for c, _ in codes], [w for _, w in codes])[0]
                              for _ in range(self.rng.choice((1, 1, 1, 2)))})
            data = {"grantee": grantee.username, "system": s.code, "access_level": "read",
                    "scope": "detail" if "AREA_NOT_GRANTABLE" in refused else "summary",
                    "purpose": s.purpose,
                    "tasks": "Opslag" if "NEED_UNDOCUMENTED" in refused else TASKS[0],
                    "frequency": "yearly" if "NEED_NOT_RECURRING" in refused else "weekly",
                    "data_categories": ["identity", "health"] if "SPECIAL_CATEGORY" in refused
                    else ["identity"], "write_justification": ""}
            add((at, grantee.username, "request.refused", "request", "-",
                 f"Request for {grantee.username} to {s.code} refused: {', '.join(refused)}",
                 {"input": data, "violations": [{"code": c, "principle": RULE_PRINCIPLES[c]}
                                                for c in refused]}, grantee.address))
        return events

    def grant_events(self, g: Gr, add) -> None:
        r = g.request
        code, grantee = r.system.code, r.grantee.username
        state = {"status": "approved", "fulfilled_at": None, "activated_at": None,
                 "review_due": None, "ended_at": None, "end_reason": None, "removed_at": None}
        approver = r.decisions[-1].approver
        add((g.approved, approver.username, "grant.create", "grant", g.id,
             f"Grant {g.id} created from request {r.id}: {grantee} {r.level}/{r.scope} on "
             f"{code}, awaiting the user administrator",
             {"after": dict(state), "request": r.id}, approver.address))
        timeline = []
        if g.fulfilled:
            timeline.append((g.fulfilled, "fulfil"))
        if g.activated:
            timeline.append((g.activated, "activate"))
        timeline += [(rev.at, rev) for rev in g.reviews]
        if g.ended:
            timeline.append((g.ended, "end"))
        if g.removed:
            timeline.append((g.removed, "remove"))
        timeline.sort(key=lambda item: item[0])
        due = g.first_due
        for at, what in timeline:
            before = dict(state)
            if what == "fulfil":
                state["fulfilled_at"] = from_us(at)
                add((at, g.fulfiller.username, "grant.fulfil", "grant", g.id,
                     f"Access for grant {g.id} created in {code}",
                     {"before": before, "after": dict(state)}, g.fulfiller.address))
            elif what == "activate":
                state.update(status="active", activated_at=from_us(at), review_due=due)
                add((at, g.activator.username, "grant.activate", "grant", g.id,
                     f"Grant {g.id} is active: carried out and acknowledged; review due "
                     f"{due.isoformat()}", {"before": before, "after": dict(state)},
                     g.activator.address))
            elif what == "end":
                state.update(status="revoked", ended_at=from_us(at), end_reason=g.end_reason)
                actor = g.ended_by
                add((at, actor.username, g.end_action, "grant", g.id,
                     f"Grant {g.id} ({grantee} on {code}) revoked: {g.end_reason}",
                     {"before": before, "after": dict(state)},
                     "10.0.0.5" if g.end_reason == "left" else actor.address))
            elif what == "remove":
                state["removed_at"] = from_us(at)
                add((at, g.remover.username, "grant.remove", "grant", g.id,
                     f"Access for grant {g.id} removed from {code}",
                     {"before": before, "after": dict(state)}, g.remover.address))
            else:
                rev = what
                add((at, rev.reviewer.username, f"grant.review_{rev.decision}", "grant", g.id,
                     f"{rev.reviewer.username} reviewed grant {g.id} ({grantee} on {code}): "
                     f"{rev.decision}",
                     {"before": {"review_due": rev.before}, "after": {"review_due": rev.after},
                      "comment": rev.comment, "review": rev.id, "reviewed_on": rev.on},
                     rev.reviewer.address))
                if rev.decision == "keep":
                    state["review_due"] = due = rev.after

    def filler(self, count: int, after_us: int):
        """Logins between the history's entries, in time order, up to the target count."""
        rng = self.rng
        days = (self.today - self.start_day).days
        times = sorted(self.work_moment(self.start_day + timedelta(days=rng.randrange(days)))
                       for _ in range(count))
        ceiling = self.now_us - HOUR
        times = [min(max(t, after_us + 1), ceiling) for t in times]
        people = self.people
        for at in times:
            person = rng.choice(people)
            while person.left_us and person.left_us <= at:
                person = rng.choice(people)
            if rng.random() < 0.02:
                yield (at, person.username, "auth.login_failed", "employee", person.username,
                       f"Failed login for '{person.username}'", {"reason": "wrong password"},
                       person.address)
            else:
                yield (at, person.username, "auth.login", "employee", person.username,
                       f"{person.username} logged in", None, person.address)


def _dt(us: int | None) -> datetime | None:
    return from_us(us) if us is not None else None


class ChainWriter:
    """Appends entries after the current head, hashed as services/audit.py hashes them."""

    COLUMNS = ["id", "created_at", "actor", "action", "object_type", "object_id", "summary",
               "details", "client_address", "prev_hash", "hash"]

    def __init__(self, conn):
        from governance.models import AuditEntry, AuditHead
        self.conn, self.table = conn, AuditEntry.__table__
        head = conn.execute(sa.select(AuditHead.entries, AuditHead.last_hash)
                            .where(AuditHead.id == 1)).one()
        last = conn.execute(sa.select(AuditEntry.id, AuditEntry.created_at)
                            .order_by(AuditEntry.id.desc()).limit(1)).first()
        if (last.id if last else 0) != head.entries:
            raise SystemExit("the audit head does not match the table; start from --reset")
        self.next_id, self.prev = head.entries + 1, head.last_hash
        self.last_us = to_us(last.created_at) if last else 0
        self.rows: list[tuple] = []
        self.written = 0

    def add(self, at, actor, action, object_type, object_id, summary, details, client) -> None:
        from governance.services.audit import canonical_details, entry_hash, utc_stamp
        if at <= self.last_us:
            at = self.last_us + 1
        self.last_us = at
        created = from_us(at)
        object_id, summary = str(object_id), summary[:500]
        if not isinstance(details, str):
            details = "{}" if details is None else canonical_details(details)
        digest = entry_hash(id=self.next_id, created_at=utc_stamp(created), actor=actor,
                            action=action, object_type=object_type, object_id=object_id,
                            summary=summary, details=details, client_address=client,
                            prev_hash=self.prev)
        self.rows.append((self.next_id, created, actor, action, object_type, object_id,
                          summary, details, client, self.prev, digest))
        self.prev, self.next_id = digest, self.next_id + 1
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        bulk_insert(self.conn, self.table, self.rows, self.COLUMNS)
        self.written += len(self.rows)
        self.rows = []

    def close(self) -> int:
        from governance.models import AuditHead
        self.flush()
        self.conn.execute(sa.update(AuditHead).where(AuditHead.id == 1)
                          .values(entries=self.next_id - 1, last_hash=self.prev))
        return self.next_id - 1


@contextmanager
def audit_clock(start_us: int):
    """While the seed and policies load through the services, their audit entries are
    dated at the start of the history, one millisecond apart."""
    from governance.services import audit
    original, moment = audit.utcnow, [start_us]

    def tick() -> datetime:
        moment[0] += 1000
        return from_us(moment[0])
    audit.utcnow = tick
    try:
        yield moment
    finally:
        audit.utcnow = original


def next_ids(conn) -> dict[str, int]:
    tables = ["centres", "employees", "systems", "non_grantable_areas", "access_requests",
              "decisions", "grants", "reviews", "acknowledgements"]
    return {t: (conn.scalar(sa.text(f"SELECT max(id) FROM {t}")) or 0) + 1 for t in tables}


def reset_sequences(conn) -> None:
    """PostgreSQL: rows came with their ids, so each serial sequence moves past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("centres", "employees", "systems", "non_grantable_areas", "access_requests",
                  "decisions", "grants", "reviews", "acknowledgements", "audit_entries",
                  "policy_versions", "api_tokens", "outbox_messages", "login_attempts",
                  "data_categories"):
        conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"))


def generate(url: str, scale: float = 1.0, *, reset: bool = False, seed: int = 20241119,
             quiet: bool = False, app_config: dict | None = None) -> dict:
    """Build the register; return the counts and the timings. app_config goes to
    create_app (the smoke test lowers the cost of the seed's demo password hashes)."""
    from flask_migrate import upgrade

    from governance import create_app
    from governance.extensions import db
    from governance.models import Centre, Employee, PolicyVersion
    from governance.services import clock, policies, seeding
    from governance.services.actor import Actor

    plan = Plan.at(scale)
    timer = Timer(quiet)
    url = command_line_url(url)
    timer.say(f"Generating a register at scale {scale:g} in {_safe(url)}")
    prepare_database(url, reset)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, **(app_config or {})})
    with app.app_context():
        engine = db.engine
        if not is_empty(engine):
            raise SystemExit(f"{_safe(url)} already holds a register; pass --reset to "
                             "replace it")
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        timer.lap("migrations")
        today = clock.today()
        now_us = to_us(datetime.now(UTC))
        gen = Generator(plan, seed, today, now_us)
        actor = Actor.system("bench")
        with audit_clock(gen.t0):
            seeding.seed_register(db.session, actor, SEED_PATH, PROJECT_ROOT)
            policies.load_into_register(db.session, actor, POLICY_PATH, PROJECT_ROOT)
        db.session.execute(sa.update(PolicyVersion).values(loaded_at=from_us(gen.t0)))
        db.session.execute(sa.update(Employee).values(created_at=from_us(gen.t0)))
        db.session.commit()
        timer.lap("seed and policies (services)")

        gen.read_seeded(db.session)
        db.session.close()
        with engine.begin() as conn:
            tune(conn)
            ids = next_ids(conn)
            gen.make_register(ids)
            rows = gen.register_rows()
            from governance.models import (EmployeeRole, NonGrantableArea, System,
                                           system_categories, system_user_admins)
            bulk_insert(conn, Centre.__table__, rows["centres"],
                        ["id", "code", "name", "manager_id"])
            bulk_insert(conn, Employee.__table__, rows["employees"],
                        ["id", "username", "name", "email", "centre_id", "title", "status",
                         "left_on", "password_hash", "session_version", "created_at"])
            bulk_insert(conn, EmployeeRole.__table__, rows["employee_roles"])
            for centre in gen.centres:
                conn.execute(sa.update(Centre).where(Centre.id == centre[0])
                             .values(manager_id=centre[3]))
            bulk_insert(conn, System.__table__, rows["systems"])
            bulk_insert(conn, system_categories, rows["system_categories"])
            bulk_insert(conn, system_user_admins, rows["system_user_admins"])
            bulk_insert(conn, NonGrantableArea.__table__, rows["non_grantable_areas"],
                        ["id", "system_id", "key", "name_da", "name_en", "scopes",
                         "categories", "contact_id"])
            chain = ChainWriter(conn)
            for event in gen.register_events():
                chain.add(*event)
            chain.close()
        timer.lap("register: centres, employees, systems (bulk)")

        with tempfile.TemporaryDirectory(prefix="bench-policy-") as folder:
            folder = Path(folder)
            shutil.copyfile(POLICY_PATH / "principles.yaml", folder / "principles.yaml")
            with open(folder / f"{BENCH_POLICY}.yaml", "w", encoding="utf-8") as handle:
                handle.write("# Generated by bench.generate: every generated system.\n")
                yaml.safe_dump(gen.policy_document(), handle, allow_unicode=True,
                               sort_keys=False)
            with audit_clock(gen.t0 + DAY):
                loaded = policies.load_into_register(db.session, actor, folder, folder)
            db.session.execute(sa.update(PolicyVersion).where(
                PolicyVersion.id.in_([v.id for v in loaded])).values(
                loaded_at=from_us(gen.t0 + DAY)))
            db.session.commit()
        in_force = policies.in_force(db.session)
        db.session.close()
        timer.lap(f"policy '{BENCH_POLICY}' ({len(gen.new_systems)} systems, services)")

        gen.compute_offers(in_force)
        gen.simulate()
        with engine.connect() as conn:
            ids = next_ids(conn)
        gen.assign_ids(ids)
        events = gen.history_events(in_force.principles_sha256)
        events.sort(key=lambda e: e[0])
        timer.lap("history simulated")

        from governance.models import (AccessRequest, Acknowledgement, Decision, Grant,
                                       Review)
        with engine.begin() as conn:
            tune(conn)
            rows = gen.object_rows(in_force.principles_sha256)
            for model in (AccessRequest, Decision, Grant, Review, Acknowledgement):
                table = model.__table__
                columns = {
                    "access_requests": ["id", "requester_id", "grantee_id", "system_id",
                                        "access_level", "scope", "purpose", "tasks",
                                        "frequency", "data_categories", "write_justification",
                                        "approvals_needed", "status", "version", "created_at",
                                        "decided_at"],
                    "decisions": ["id", "request_id", "approver_id", "decision", "comment",
                                  "decided_at"],
                    "grants": ["id", "request_id", "grantee_id", "system_id", "access_level",
                               "scope", "purpose", "tasks", "frequency", "data_categories",
                               "status", "approved_at", "fulfilled_at", "activated_at",
                               "review_due", "ended_at", "end_reason", "ended_by_id",
                               "removed_at"],
                    "reviews": ["id", "grant_id", "reviewer_id", "decision", "comment",
                                "reviewed_on", "due_before", "due_after", "reviewed_at"],
                    "acknowledgements": ["id", "employee_id", "principles_sha256",
                                         "acknowledged_at"],
                }[table.name]
                bulk_insert(conn, table, rows[table.name], columns)
        timer.lap("requests, decisions, grants, reviews, acks (bulk)")

        with engine.begin() as conn:
            tune(conn)
            chain = ChainWriter(conn)
            head = chain.next_id - 1
            filler = max(0, plan.audit_entries - head - len(events))
            stream = merge(events, gen.filler(filler, chain.last_us), key=lambda e: e[0])
            for event in stream:
                chain.add(*event)
            total = chain.close()
        timer.lap(f"audit trail: {total - head:,} entries chained (bulk)")

        with engine.begin() as conn:
            reset_sequences(conn)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        timer.lap("sequences and statistics")
        counts = count_rows(engine)
        engine.dispose()
    statuses = {s: sum(1 for g in gen.grants if g.status == s)
                for s in ("active", "approved", "revoked")}
    timer.say(f"Done in {timer.total:.1f} s: " + ", ".join(
        f"{n:,} {name}" for name, n in counts.items()))
    timer.say("Grants: " + ", ".join(f"{n:,} {s}" for s, n in statuses.items()))
    return {"url": url, "scale": scale, "plan": plan.__dict__, "counts": counts,
            "grant_statuses": statuses, "seconds": round(timer.total, 1),
            "laps": {k: round(v, 2) for k, v in timer.laps.items()},
            "busiest_system": max(gen.load, key=gen.load.get) if gen.load else None,
            "today": today.isoformat()}


def count_rows(engine) -> dict[str, int]:
    tables = ["centres", "employees", "systems", "access_requests", "decisions", "grants",
              "reviews", "acknowledgements", "audit_entries"]
    with engine.connect() as conn:
        return {t: conn.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in tables}


def _safe(url: str) -> str:
    """The URL without a password, for printing."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@",
                                                                 ":***@")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="sqlite:///file or postgresql://user@host/db (default: "
                             "$DATABASE_URL)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplies every count (default 1.0)")
    parser.add_argument("--reset", action="store_true",
                        help="replace an existing database (SQLite: the file; PostgreSQL: "
                             "drop and create the database)")
    parser.add_argument("--seed", type=int, default=20241119, help="random seed")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give --database-url (or set DATABASE_URL)")
    generate(args.database_url, args.scale, reset=args.reset, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
