"""Municipal scale: the benchmark.

    python -m bench.run [--database-url URL] [--json OUT] [--generate] [--scale 1.0]

Without --database-url it measures the SQLite file bench/bench.sqlite (generated first
when missing, or always with --generate) and, when DATABASE_URL points at PostgreSQL,
that database too (generated the same way). For each engine:

- the query-backed pages, in process through the Flask test client, each request in its
  own app context and database session as in production: the median time of the page,
  and the median time of hand-written SQL computing the same figures on the same engine;
- the re-evaluation of every active grant (services.evaluation.reevaluate), grants/s;
- the audit chain verification (services.audit.verify_chain), entries/s;
- requests + approvals through the JSON API served by gunicorn (2 workers on loopback)
  to 8 concurrent clients, per second, and the workers' peak memory (VmHWM).

It writes only to databases whose name contains "bench" (the API load files requests and
approves them).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

from governance.config import PROJECT_ROOT

from . import generate as gen

DEFAULT_SQLITE = PROJECT_ROOT / "bench" / "bench.sqlite"
RUNS = 101                # timed runs per page and its SQL (after one warm-up)
PAGE_BUDGET_S = 25.0      # but no more than this many seconds per page (at least 5 runs)
API_THREADS = 8
API_PAIRS_PER_THREAD = 25
API_BUDGET_S = 60.0
PAGE_MS_TARGET = 150.0
RATIO_TARGET = 2.0
REEVALUATE_TARGET = 100_000
VERIFY_TARGET = 300_000
WORKER_MB_TARGET = 200.0
UTC = timezone.utc


@dataclass
class Figure:
    engine: str
    name: str
    value: float
    unit: str
    target: str
    met: bool
    note: str = ""

    def as_json(self) -> dict:
        data = asdict(self)
        data["name"] = f"{self.engine}: {self.name}"
        data["value"] = (None if self.value != self.value else round(self.value, 3)) \
            if isinstance(self.value, float) else self.value
        return data


def engine_name(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def db_name(url: str) -> str:
    if url.startswith("sqlite"):
        return Path(url.split("///", 1)[-1]).name
    return urlsplit(url).path.lstrip("/")


def require_bench_database(url: str) -> None:
    if "bench" not in db_name(url):
        raise SystemExit(f"Refusing to write to '{db_name(url)}': the benchmark only writes "
                         "to a database whose name contains 'bench'.")


def populated(url: str) -> bool:
    """The database holds a generated register (the 'bench' policy is loaded)."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[-1])
        if not path.exists():
            return False
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(sa.text(
                "SELECT count(*) FROM policy_versions WHERE name = 'bench'")))
    except Exception:
        return False
    finally:
        engine.dispose()


# --- pages and their bare SQL ------------------------------------------------------------

class Params:
    """Bind values as each engine stores them: SQLite keeps dates and UTC timestamps as
    text; PostgreSQL takes date and datetime objects."""

    def __init__(self, dialect: str):
        self.sqlite = dialect == "sqlite"

    def day(self, value: date):
        return value.isoformat() if self.sqlite else value

    def moment(self, value: datetime):
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite \
            else value


def dashboard_sql(p: Params, today: date) -> list[tuple[str, dict]]:
    from governance.domain.rules import earliest_current_acknowledgement
    from governance.services.clock import MUNICIPAL_TZ, day_end
    since = datetime.combine(earliest_current_acknowledgement(today), dtime.min,
                             tzinfo=MUNICIPAL_TZ)
    first = today.replace(day=1)
    # One statement per figure, each in the shape its index serves (as a DBA would write
    # them), so the bare SQL is a lower bound for the database's share of the page.
    d, d30 = {"d": p.day(today)}, {"d": p.day(today), "d30": p.day(today + timedelta(days=30))}
    counts = [
        ("SELECT count(*) FROM grants WHERE status = 'active'", {}),
        ("SELECT count(*) FROM grants WHERE status = 'approved' AND fulfilled_at IS NULL", {}),
        ("""SELECT count(*) FROM grants WHERE status IN ('revoked', 'expired')
            AND fulfilled_at IS NOT NULL AND removed_at IS NULL""", {}),
        ("SELECT count(*) FROM grants WHERE status = 'active' AND review_due < :d", d),
        ("""SELECT count(*) FROM grants WHERE status = 'active'
            AND review_due >= :d AND review_due <= :d30""", d30),
        ("""SELECT count(*) FROM grants WHERE status = 'active'
            AND (access_level = 'write' OR scope = 'detail')""", {}),
        ("""SELECT count(*) FROM grants
            WHERE grantee_id IN (SELECT id FROM employees WHERE status = 'left')
            AND fulfilled_at IS NOT NULL AND removed_at IS NULL""", {}),
        ("""SELECT count(*) FROM grants WHERE status IN ('approved', 'active')
            AND grantee_id IN (SELECT e.id FROM employees e WHERE NOT EXISTS (
                SELECT 1 FROM acknowledgements a
                WHERE a.employee_id = e.id AND a.acknowledged_at >= :since
                AND a.acknowledged_at < :until))""",
         {"since": p.moment(since), "until": p.moment(day_end(today))}),
    ]
    by_system = """
        SELECT s.code, g.access_level, g.n
        FROM (SELECT system_id, access_level, count(*) AS n FROM grants
              WHERE status = 'active' GROUP BY system_id, access_level) g
        JOIN systems s ON s.id = g.system_id ORDER BY s.code, g.access_level"""
    if p.sqlite:
        refusals = """
            SELECT json_extract(v.value, '$.principle') AS principle, count(DISTINCT a.id)
            FROM audit_entries a, json_each(a.details, '$.violations') v
            WHERE a.action = 'request.refused' GROUP BY principle ORDER BY principle"""
        months = """
            SELECT CASE WHEN review_due < :first THEN :first_month
                        ELSE strftime('%Y-%m', review_due) END AS month, sum(n)
            FROM (SELECT review_due, count(*) AS n FROM grants
                  WHERE status = 'active' AND review_due IS NOT NULL GROUP BY review_due) d
            GROUP BY month ORDER BY month"""
    else:
        refusals = """
            SELECT v ->> 'principle' AS principle, count(DISTINCT a.id)
            FROM audit_entries a, json_array_elements(a.details::json -> 'violations') v
            WHERE a.action = 'request.refused' GROUP BY principle ORDER BY principle"""
        months = """
            SELECT CASE WHEN review_due < :first THEN :first_month
                        ELSE to_char(review_due, 'YYYY-MM') END AS month, sum(n)
            FROM (SELECT review_due, count(*) AS n FROM grants
                  WHERE status = 'active' AND review_due IS NOT NULL GROUP BY review_due) d
            GROUP BY month ORDER BY month"""
    return [
        *counts,
        (by_system, {}),
        ("SELECT code FROM systems ORDER BY code", {}),
        ("SELECT count(*) FROM access_requests WHERE status = 'pending'", {}),
        (refusals, {}),
        (months, {"first": p.day(first), "first_month": first.strftime("%Y-%m")}),
    ]


def overdue_sql(p: Params, today: date, per_page: int) -> list[tuple[str, dict]]:
    where = "g.status = 'active' AND g.review_due < :d"
    return [
        (f"SELECT count(*) FROM grants g WHERE {where}", {"d": p.day(today)}),
        (f"""
        SELECT g.id, e.name, s.code, g.access_level, g.scope, g.status, g.approved_at,
               g.review_due
        FROM grants g JOIN employees e ON e.id = g.grantee_id
        JOIN systems s ON s.id = g.system_id
        WHERE {where} ORDER BY g.id LIMIT {per_page}""", {"d": p.day(today)}),
    ]


def _agg(p: Params, expression: str) -> str:
    return (f"group_concat({expression}, ', ')" if p.sqlite
            else f"string_agg({expression}, ', ')")


def queue_sql(p: Params, me: int, purposes: list[str], per_page: int
              ) -> list[tuple[str, dict]]:
    names = ", ".join(f"'{name}'" for name in purposes) or "''"
    mine = f"""r.status = 'pending' AND r.purpose IN ({names})
          AND r.requester_id <> :me AND r.grantee_id <> :me
          AND NOT EXISTS (SELECT 1 FROM decisions d
                          WHERE d.request_id = r.id AND d.approver_id = :me)"""
    return [
        (f"SELECT count(*) FROM access_requests r WHERE {mine}", {"me": me}),
        (f"""
        SELECT r.id, e.name, c.code, s.code, r.access_level, r.scope, r.approvals_needed,
               r.created_at,
               (SELECT count(*) FROM decisions d
                WHERE d.request_id = r.id AND d.decision = 'approve') AS approvals
        FROM access_requests r
        JOIN employees e ON e.id = r.grantee_id JOIN centres c ON c.id = e.centre_id
        JOIN systems s ON s.id = r.system_id
        WHERE {mine} ORDER BY r.id LIMIT {per_page}""", {"me": me}),
        ("SELECT count(*) FROM access_requests", {}),
        (f"""
        SELECT r.id, ge.name, re.name, s.code, r.access_level, r.scope, r.status, r.created_at
        FROM access_requests r
        JOIN employees ge ON ge.id = r.grantee_id JOIN employees re ON re.id = r.requester_id
        JOIN systems s ON s.id = r.system_id
        ORDER BY r.id DESC LIMIT {per_page}""", {}),
    ]


def reviews_sql(p: Params, today: date, me: int, purposes: list[str], limit: int
                ) -> list[tuple[str, dict]]:
    names = ", ".join(f"'{name}'" for name in purposes) or "''"
    due = "g.status = 'active' AND g.review_due <= :horizon"
    mine = f"{due} AND g.purpose IN ({names}) AND g.grantee_id <> :me"
    values = {"horizon": p.day(today + timedelta(days=30)), "me": me}
    return [
        (f"SELECT count(*) FROM grants g WHERE {due} AND g.grantee_id = :me", values),
        (f"SELECT count(*) FROM grants g WHERE {mine}", values),
        (f"""
        SELECT g.id, e.name, e.username, e.title, c.code, s.code, g.access_level, g.scope,
               g.review_due, g.tasks, g.frequency, g.approved_at,
               (SELECT {_agg(p, "a.name")} FROM decisions d JOIN employees a ON a.id = d.approver_id
                WHERE d.request_id = g.request_id AND d.decision = 'approve') AS approvers,
               lr.reviewed_on, lre.name, lr.comment,
               (SELECT max(a.acknowledged_at) FROM acknowledgements a
                WHERE a.employee_id = g.grantee_id) AS acknowledged_at
        FROM grants g
        JOIN employees e ON e.id = g.grantee_id JOIN centres c ON c.id = e.centre_id
        JOIN systems s ON s.id = g.system_id
        LEFT JOIN reviews lr ON lr.id = (SELECT max(r.id) FROM reviews r WHERE r.grant_id = g.id)
        LEFT JOIN employees lre ON lre.id = lr.reviewer_id
        WHERE {mine}
        ORDER BY g.review_due, g.id LIMIT {limit}""", values),
    ]


def point_in_time_sql(p: Params, code: str, day: date, per_page: int
                      ) -> list[tuple[str, dict]]:
    from governance.services.clock import MUNICIPAL_TZ
    start = datetime.combine(day, dtime.min, tzinfo=MUNICIPAL_TZ)
    end = datetime.combine(day, dtime.max, tzinfo=MUNICIPAL_TZ)
    held = """g.system_id = (SELECT id FROM systems WHERE code = :code)
              AND g.fulfilled_at IS NOT NULL AND g.fulfilled_at <= :end
              AND (g.removed_at IS NULL OR g.removed_at >= :start)"""
    values = {"code": code, "start": p.moment(start), "end": p.moment(end)}
    return [
        ("SELECT code, name FROM systems ORDER BY code", {}),
        (f"SELECT count(*) FROM grants g WHERE {held}", values),
        (f"""
        SELECT g.id, e.name, e.username, c.code, g.access_level, g.scope, g.approved_at,
               g.tasks, g.fulfilled_at, g.removed_at, g.status,
               (SELECT {_agg(p, "a.username")} FROM decisions d
                JOIN employees a ON a.id = d.approver_id
                WHERE d.request_id = g.request_id AND d.decision = 'approve') AS approved_by
        FROM grants g JOIN employees e ON e.id = g.grantee_id
        JOIN centres c ON c.id = e.centre_id
        WHERE {held} ORDER BY g.id LIMIT {per_page}""", values),
    ]


class QueryCounter:
    """Counts the statements (and their time) the engine runs while it is on."""

    def __init__(self, engine):
        self.engine, self.count, self.seconds, self.on = engine, 0, 0.0, False
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.count += 1
            self.seconds += time.perf_counter() - conn.info.pop("bench_started", 0)

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)


def timed(function, runs: int = RUNS, budget: float = PAGE_BUDGET_S, warm_up: bool = True
          ) -> list[float]:
    """Seconds of each of up to `runs` runs of function() (after one warm-up), at least
    three, until `budget` seconds have passed."""
    if warm_up:
        function()
    times, started = [], time.perf_counter()
    for _ in range(runs):
        t = time.perf_counter()
        function()
        times.append(time.perf_counter() - t)
        if time.perf_counter() - started > budget and len(times) >= 3:
            break
    return times


def spread(times: list[float]) -> str:
    """The median and the fastest of some runs, for a figure's note: the machine's other
    load only ever slows a run down, so the gap between the two shows how much it did."""
    return (f"median of {len(times)} runs {statistics.median(times):.2f} s, "
            f"fastest {min(times):.2f} s")


# A fixed piece of pure Python work, timed at the start and the end of each engine's
# measurements: when it takes longer, the machine is slower, and every figure with it.
def calibration() -> None:
    import hashlib
    for n in range(100_000):
        text = f"{n}:{n * 7};audit.entry;{'x' * 90};"
        hashlib.sha256(text.encode()).hexdigest()


def measure_machine(engine: str, when: str, figures: list[Figure]) -> None:
    times = timed(calibration, runs=5, budget=10)
    ms = statistics.median(times) * 1000
    figures.append(Figure(engine, f"machine speed check ({when})", ms, "ms", "informational",
                          True, "a fixed pure-Python workload (100,000 formatted and hashed "
                          f"texts), {len(times)} runs; fastest {min(times) * 1000:.0f} ms"))
    print(f"  machine check    {ms:.0f} ms ({when}; fastest {min(times) * 1000:.0f} ms)",
          flush=True)


def timed_pair(first, second, runs: int = RUNS, budget: float = PAGE_BUDGET_S
               ) -> tuple[float, float, int]:
    """Median seconds of first() and of second(), run in turns after one warm-up each, so
    that both see the same state of the machine (caches, other load, CPU clock). Each
    function returns the seconds it measured itself."""
    first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    started = time.perf_counter()
    for _ in range(runs):
        times[0].append(first())
        times[1].append(second())
        if time.perf_counter() - started > budget and len(times[0]) >= 5:
            break
    return statistics.median(times[0]), statistics.median(times[1]), len(times[0])


class ServerTimer:
    """WSGI middleware: the time the app takes for one request, from the call to the end of
    its response (teardown included), and not the test client's own work around it."""

    def __init__(self, wsgi_app):
        self.wsgi_app, self.last = wsgi_app, 0.0

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        body = self.wsgi_app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()
            self.last = time.perf_counter() - started


class RenderTimer:
    """The time the app spends rendering templates in one request (Flask's template
    signals), to tell a page's rendering from its SQL and the rest."""

    def __init__(self, app):
        from flask import before_render_template, template_rendered
        self.app, self.started, self.seconds = app, 0.0, 0.0
        self.signals = (before_render_template, template_rendered)
        before_render_template.connect(self._before, app)
        template_rendered.connect(self._after, app)

    def _before(self, sender, **extra):
        self.started = time.perf_counter()

    def _after(self, sender, **extra):
        self.seconds += time.perf_counter() - self.started

    def close(self) -> None:
        self.signals[0].disconnect(self._before, self.app)
        self.signals[1].disconnect(self._after, self.app)


def measure_pages(app, engine: str, figures: list[Figure], runs: int = RUNS) -> dict:
    from governance.extensions import db
    from governance.models import Employee, Grant, System
    from governance.services import clock, dashboard, policies
    from governance.services import grants as grant_service
    from governance.services import requests as request_service
    from governance.services import reviews as review_service
    from governance.services.actor import Actor

    today = clock.today()
    per_page = page_size()
    with app.app_context():
        people = {e.username: e for e in db.session.scalars(
            sa.select(Employee).where(Employee.username.in_(("dpo", "kfi"))))}
        session_ids = {name: e.get_id() for name, e in people.items()}
        kfi = people["kfi"]
        purposes = sorted(name for name, policy in policies.in_force(db.session).policies.items()
                          if "kfi" in policy.approver_usernames)
        busiest = db.session.execute(
            sa.select(System.code, sa.func.count(Grant.id)).join(Grant.system)
            .group_by(System.code).order_by(sa.func.count(Grant.id).desc()).limit(1)).first()
        first = db.session.scalar(sa.select(sa.func.min(Grant.fulfilled_at)))
        code = busiest[0]
        middle = clock.local_date(first) + (today - clock.local_date(first)) / 2
        dialect = db.engine.dialect.name
        # The figures the pages show, from the services, to check the SQL against.
        dpo, kfi_actor = Actor.of(people["dpo"]), Actor.of(kfi)
        overdue_rows, overdue_total = _paged(dashboard.grant_list(
            db.session, dpo, "overdue", today, None, 1, per_page))
        queue_rows, queued = _paged(request_service.pending_for(db.session, kfi_actor))
        review_queue = review_service.queue_for(db.session, kfi_actor, today)
        at_rows, at_total = grant_service.visible_grants(db.session, dpo, system=code,
                                                         as_of=middle, per_page=per_page)
        expected = {
            "dashboard": dashboard.build(db.session, dpo, today),
            "overdue": (overdue_total, len(overdue_rows)),
            "queue": (queued, len(queue_rows)),
            "requests_total": request_service.visible_requests(db.session, kfi_actor,
                                                               per_page=1)[1],
            "reviews": (getattr(review_queue, "own", 0), getattr(review_queue, "total", None),
                        review_queue.count),
            "at": (at_total, len(at_rows)),
        }
        review_limit = review_queue.count if getattr(review_queue, "total", None) is None \
            else max(review_queue.count, 1)
        db.session.remove()
    p = Params(dialect)
    pages = [
        ("dashboard", "dpo", "/dashboard/", dashboard_sql(p, today)),
        ("overdue list", "dpo", "/dashboard/list/overdue", overdue_sql(p, today, per_page)),
        ("approver queue", "kfi", "/requests/", queue_sql(p, kfi.id, purposes, per_page)),
        ("reviews", "kfi", "/reviews/", reviews_sql(p, today, kfi.id, purposes,
                                                    review_limit)),
        ("point in time", "dpo", f"/grants/at?system={code}&date={middle.isoformat()}",
         point_in_time_sql(p, code, middle, per_page)),
    ]
    clients = {}
    for username in ("dpo", "kfi"):
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = session_ids[username]
            session["_fresh"] = True
        clients[username] = client
    with app.app_context():
        sql_engine = db.engine
    counter = QueryCounter(sql_engine)
    details = {"busy_system": code, "date": middle.isoformat(), "as_of": today.isoformat()}
    timer = app.wsgi_app = ServerTimer(app.wsgi_app)
    render = RenderTimer(app)
    try:
        for name, user, path, statements in pages:
            client = clients[user]

            rendering: list[float] = []

            def page(client=client, path=path, user=user) -> float:
                render.seconds = 0.0
                response = client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path} as {user}: {response.status_code}")
                rendering.append(render.seconds)
                return timer.last

            def bare(statements=statements) -> float:
                started = time.perf_counter()
                run_bare(statements)
                return time.perf_counter() - started

            def run_bare(statements=statements) -> list:
                with sql_engine.connect() as conn:
                    return [conn.execute(sa.text(sql), values).fetchall()
                            for sql, values in statements]

            page_s, sql_s, page_runs = timed_pair(page, bare, runs)
            sql_runs = page_runs
            counter.on = True
            counter.count, counter.seconds = 0, 0.0
            body = client.get(path).get_data()
            counter.on = False
            queries, in_page_sql = counter.count, counter.seconds
            note = check_figures(name, run_bare(), expected)
            ratio = page_s / sql_s if sql_s else float("inf")
            figures.append(Figure(engine, f"{name} page median", page_s * 1000, "ms",
                                  f"< {PAGE_MS_TARGET:g} ms", page_s * 1000 < PAGE_MS_TARGET,
                                  f"GET {path} as {user}; {page_runs} runs; {queries} queries "
                                  f"taking {in_page_sql * 1000:.1f} ms; rendering "
                                  f"{statistics.median(rendering) * 1000:.1f} ms (median); "
                                  f"{len(body) // 1024} KiB"))
            figures.append(Figure(engine, f"{name} page / bare SQL", ratio, "x",
                                  f"<= {RATIO_TARGET:g}", ratio <= RATIO_TARGET,
                                  f"bare SQL median {sql_s * 1000:.1f} ms over {sql_runs} runs, "
                                  f"{len(statements)} statements" + (f"; {note}" if note else "")))
            print(f"  {name:<16} page {page_s * 1000:8.1f} ms   SQL {sql_s * 1000:7.1f} ms   "
                  f"x{ratio:6.1f}   {queries} queries, rendering "
                  f"{statistics.median(rendering) * 1000:.1f} ms", flush=True)
    finally:
        counter.close()
        render.close()
        app.wsgi_app = timer.wsgi_app
    return details


def check_figures(name: str, results: list, expected: dict) -> str:
    """The bare SQL must compute what the page shows; say so when it does not."""
    if name == "dashboard":
        board = expected["dashboard"]
        counts = dict(zip(("active", "to_create", "to_remove", "overdue", "due_30",
                           "write_or_detail", "leavers", "unacknowledged"),
                          (int(rows[0][0] or 0) for rows in results[:8])))
        months = dict((m, n) for m, n in results[12])
        got = (counts, {(c, level): n for c, level, n in results[8]}, results[10][0][0],
               {p: n for p, n in results[11]},
               [(m, months.get(m, 0)) for m, _n in board.due_by_month])
        want = (board.counts, board.by_system_level, board.pending_requests,
                board.refusals_by_principle, board.due_by_month)
        return "" if got == want else f"MISMATCH with the page's figures: {got} != {want}"
    if name == "overdue list":
        got = (results[0][0][0], len(results[1]))
        return "" if got == expected["overdue"] else f"MISMATCH: {got} != {expected['overdue']}"
    if name == "approver queue":
        got = ((results[0][0][0], len(results[1])), results[2][0][0])
        want = (expected["queue"], expected["requests_total"])
        return "" if got == want else f"MISMATCH: {got} != {want}"
    if name == "reviews":
        own, total, shown = expected["reviews"]
        got = (results[0][0][0], results[1][0][0], len(results[2]))
        want = (own, total if total is not None else got[1], shown)
        return "" if got == want else f"MISMATCH: {got} != {want}"
    if name == "point in time":
        got = (results[1][0][0], len(results[2]))
        return "" if got == expected["at"] else f"MISMATCH: {got} != {expected['at']}"
    return ""


def _paged(result) -> tuple[list, int]:
    """(rows, total) from a service that pages, or from one that returns a plain list."""
    if isinstance(result, tuple):
        return result
    return result, len(result)


def page_size() -> int:
    try:
        from governance.web import PER_PAGE
    except ImportError:
        return 10_000
    return PER_PAGE


# --- re-evaluation and the audit chain -------------------------------------------------

def measure_reevaluate(app, engine: str, figures: list[Figure]) -> None:
    from governance.extensions import db
    from governance.services import evaluation

    def run():
        with app.app_context():
            checked, findings = evaluation.reevaluate(db.session)
            db.session.remove()
            return checked
    checked = run()
    times = timed(run, runs=7, budget=30, warm_up=False)
    seconds = statistics.median(times)
    rate = checked / seconds
    figures.append(Figure(engine, "re-evaluation of every active grant", rate, "grants/s",
                          f">= {REEVALUATE_TARGET:,}", rate >= REEVALUATE_TARGET,
                          f"{checked:,} active grants; {spread(times)} "
                          f"({checked / min(times):,.0f}/s)"))
    print(f"  re-evaluation    {checked:,} grants in {seconds:.2f} s = {rate:,.0f}/s", flush=True)


def measure_verify(app, engine: str, figures: list[Figure]) -> None:
    from governance.extensions import db
    from governance.services import audit

    results = []

    def run():
        with app.app_context():
            report = audit.verify_chain(db.session)
            db.session.remove()
        results.append(report)
    times = timed(run, runs=5, budget=30, warm_up=False)
    seconds = statistics.median(times)
    report = results[-1]
    rate = report.entries / seconds
    figures.append(Figure(engine, "audit verify", rate, "entries/s", f">= {VERIFY_TARGET:,}",
                          rate >= VERIFY_TARGET and report.ok,
                          f"{report.entries:,} entries; {spread(times)} "
                          f"({report.entries / min(times):,.0f}/s); "
                          f"chain {'OK' if report.ok else 'BROKEN'}"))
    print(f"  audit verify     {report.entries:,} entries in {seconds:.2f} s = {rate:,.0f}/s "
          f"({'OK' if report.ok else 'BROKEN: ' + report.reason})", flush=True)


# --- the HTTP API under gunicorn ---------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return 0  # the worker has already exited
    return 0


def api_work(app, count: int) -> tuple[dict[str, str], list[tuple[str, dict]]]:
    """Tokens for the requesters and both approvers, and `count` requests that pass every
    rule: active grantees without access to the system, categories the policy allows."""
    import random

    from governance.extensions import db
    from governance.models import AccessRequest, Employee, EmployeeRole, Grant, System
    from governance.services import auth, policies
    from governance.services.actor import Actor

    rng = random.Random(7)
    with app.app_context():
        in_force = policies.in_force(db.session).policies
        taken = set(db.session.execute(sa.select(Grant.grantee_id, Grant.system_id).where(
            Grant.status.in_(("approved", "active")))).all())
        taken |= set(db.session.execute(sa.select(AccessRequest.grantee_id,
                                                  AccessRequest.system_id)
                                        .where(AccessRequest.status == "pending")).all())
        people = db.session.execute(
            sa.select(Employee.id, Employee.username).join(EmployeeRole)
            .where(Employee.status == "active", EmployeeRole.role == "requester",
                   Employee.username.like("b%"))).all()
        offers = []
        for s in db.session.scalars(sa.select(System)):
            policy = in_force.get("bench" if s.code.startswith("BS") else "eu-oest")
            if policy is None or s.code not in policy.systems:
                continue
            ok = [c.code for c in s.categories
                  if gen.Generator.passes(policy, _SysFacts(s.code), "read", "summary",
                                          (c.code,))]
            if ok and gen.Generator.passes(policy, _SysFacts(s.code), "read", "summary", ()):
                offers.append((s.id, s.code, policy.id, ok))
        requesters = rng.sample(people, API_THREADS)
        grantees = [p for p in people if p not in requesters]
        work = []
        while len(work) < count:
            person = rng.choice(grantees)
            system_id, code, purpose, ok = rng.choice(offers)
            if (person.id, system_id) in taken:
                continue
            taken.add((person.id, system_id))
            work.append({"grantee": person.username, "system": code, "access_level": "read",
                         "scope": "summary", "purpose": purpose,
                         "tasks": "Kontrol af oplysninger i konkrete sager (benchmark)",
                         "frequency": "daily", "data_categories": [rng.choice(ok)]})
        actor = Actor.system("bench")
        tokens = {name: auth.create_token(db.session, actor, name)
                  for name in ["kfi", "tko"] + [p.username for p in requesters]}
        db.session.commit()
        db.session.remove()
    return tokens, [(p.username, work[i::API_THREADS]) for i, p in enumerate(requesters)]


class _SysFacts:
    """Just the code, which is all the rules read of a system."""

    def __init__(self, code: str):
        self.code = code


def measure_api(app, url: str, engine: str, figures: list[Figure]) -> None:
    tokens, plan = api_work(app, API_THREADS * API_PAIRS_PER_THREAD)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(48),
           "APP_ENV": "production", "PROXY_COUNT": "0", "WEB_CONCURRENCY": "2",
           "BIND": f"127.0.0.1:{port}"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn) if gunicorn.exists() else sys.executable, *(
        [] if gunicorn.exists() else ["-m", "gunicorn"]),
        "-c", str(PROJECT_ROOT / "gunicorn.conf.py"), "--workers", "2",
        "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    log_path = Path(tempfile.gettempdir()) / f"bench-gunicorn-{engine}.log"
    log = open(log_path, "w")
    server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    peak = {"kb": 0}
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            for pid in children(server.pid):
                peak["kb"] = max(peak["kb"], vm_hwm_kb(pid))
            stop.wait(0.2)
    try:
        deadline = time.time() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)  # not listening yet
            if time.time() > deadline or server.poll() is not None:
                raise RuntimeError(f"gunicorn did not start; see {log_path}")
            time.sleep(0.2)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        results = {"requests": 0, "approvals": 0, "errors": [], "latencies": []}
        lock = threading.Lock()
        until = time.time() + API_BUDGET_S

        def client(index: int, requester: str, items: list[dict]) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            approver = "kfi" if index % 2 == 0 else "tko"

            def call(token: str, path: str, body: dict) -> tuple[int, dict]:
                started = time.perf_counter()
                conn.request("POST", path, body=json.dumps(body),
                             headers={"Authorization": f"Bearer {token}",
                                      "Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                with lock:
                    results["latencies"].append(time.perf_counter() - started)
                return response.status, json.loads(data or b"{}")
            for item in items:
                if time.time() > until:
                    return
                status, data = call(tokens[requester], "/api/v1/requests", item)
                if status != 201:
                    with lock:
                        results["errors"].append((status, str(data)[:300]))
                    continue
                with lock:
                    results["requests"] += 1
                status, data = call(tokens[approver], f"/api/v1/requests/{data['id']}/decision",
                                    {"decision": "approve", "comment": "Godkendt (benchmark)"})
                with lock:
                    if status == 200:
                        results["approvals"] += 1
                    else:
                        results["errors"].append((status, str(data)[:300]))
        threads = [threading.Thread(target=client, args=(i, requester, items))
                   for i, (requester, items) in enumerate(plan)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        for pid in children(server.pid):
            peak["kb"] = max(peak["kb"], vm_hwm_kb(pid))
    finally:
        stop.set()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    done = results["requests"] + results["approvals"]
    rate = done / elapsed
    latencies = sorted(results["latencies"])
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0
    p95 = latencies[int(len(latencies) * 0.95)] * 1000 if latencies else 0
    errors = results["errors"]
    figures.append(Figure(engine, "API requests + approvals", rate, "operations/s",
                          "informational", True,
                          f"{results['requests']} requests and {results['approvals']} approvals "
                          f"in {elapsed:.1f} s by {API_THREADS} clients to 2 gunicorn workers; "
                          f"p50 {p50:.0f} ms, p95 {p95:.0f} ms; {len(errors)} errors"
                          + (f" (first: {errors[0]})" if errors else "")))
    mb = peak["kb"] / 1024
    figures.append(Figure(engine, "gunicorn worker peak memory (VmHWM)", mb, "MB",
                          f"< {WORKER_MB_TARGET:g} MB", 0 < mb < WORKER_MB_TARGET,
                          "largest VmHWM of the 2 workers under the API load"))
    print(f"  API              {done} operations in {elapsed:.1f} s = {rate:.1f}/s "
          f"(p50 {p50:.0f} ms, {len(errors)} errors); worker peak {mb:.0f} MB", flush=True)
    if errors:
        print(f"  first API error: {errors[0]}", flush=True)


# --- the whole run -------------------------------------------------------------------------

def bench_engine(url: str, args, figures: list[Figure]) -> None:
    from governance import create_app

    engine = engine_name(url)
    print(f"\n== {engine}: {gen._safe(url)}", flush=True)
    if args.generate or not populated(url):
        require_bench_database(url)
        summary = gen.generate(url, args.scale, reset=True)
        limit = 240 * args.scale
        figures.append(Figure(engine, "generation", summary["seconds"], "s",
                              f"< {limit:g} s" if engine == "sqlite" else "informational",
                              summary["seconds"] < limit if engine == "sqlite" else True,
                              f"scale {args.scale:g}: " + ", ".join(
                                  f"{n:,} {t}" for t, n in summary["counts"].items())))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(32)})
    with app.app_context():
        # A register generated under earlier code gets the migrations since (quick: they
        # add columns and indexes), so the code measured finds the schema it expects.
        from flask_migrate import upgrade
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
    steps = [("pages", lambda: measure_pages(app, engine, figures, args.runs)),
             ("re-evaluation of every active grant", lambda: measure_reevaluate(
                 app, engine, figures)),
             ("audit verify", lambda: measure_verify(app, engine, figures))]
    if "bench" in db_name(url):
        steps.append(("API requests + approvals", lambda: measure_api(app, url, engine,
                                                                       figures)))
    elif not args.only or "api" in args.only:
        print(f"  API              skipped: the load writes, and '{db_name(url)}' is not a "
              "bench database", flush=True)
    if args.only:
        steps = [(name, step) for name, step in steps if STEP_KEYS[name] in args.only]
    measure_machine(engine, "before", figures)
    for name, step in steps:
        try:
            step()
        except Exception as error:  # one broken measurement must not hide the others
            traceback.print_exc()
            figures.append(Figure(engine, name, float("nan"), "", "runs without error", False,
                                  f"failed: {type(error).__name__}: {error}"[:500]))
    measure_machine(engine, "after", figures)
    with app.app_context():
        from governance.extensions import db
        db.engine.dispose()


# What --only names each measurement by.
STEP_KEYS = {"pages": "pages", "re-evaluation of every active grant": "reevaluate",
             "audit verify": "verify", "API requests + approvals": "api"}


def print_table(figures: list[Figure]) -> None:
    print()
    header = f"{'engine':<11} {'figure':<40} {'value':>12} {'unit':<13} {'target':<14} met"
    print(header)
    print("-" * len(header))
    for f in figures:
        value = f"{f.value:,.1f}" if isinstance(f.value, float) else f"{f.value:,}"
        print(f"{f.engine:<11} {f.name:<40} {value:>12} {f.unit:<13} {f.target:<14} "
              f"{'yes' if f.met else 'NO'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="measure only this database")
    parser.add_argument("--json", metavar="OUT", help="write the figures as JSON to OUT")
    parser.add_argument("--generate", action="store_true",
                        help="generate the register again even if the database holds one")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="scale for generation (default 1.0)")
    parser.add_argument("--runs", type=int, default=RUNS,
                        help=f"timed runs per page and its SQL (default {RUNS})")
    parser.add_argument("--only", nargs="+", choices=sorted(set(STEP_KEYS.values())),
                        help="measure only these parts (default: all)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.database_url:
        urls = [args.database_url]
    else:
        urls = [f"sqlite:///{DEFAULT_SQLITE}"]
        env_url = os.environ.get("DATABASE_URL", "")
        if env_url.startswith(("postgresql", "postgres:")):
            urls.append(env_url)
    urls = [gen.command_line_url(u) for u in urls]
    figures: list[Figure] = []
    for url in urls:
        bench_engine(url, args, figures)
    total = time.perf_counter() - started
    whole = args.scale <= 1 and not args.only
    figures.append(Figure("all", "whole run", total, "s", "< 600 s" if whole else
                          "informational", total < 600 or not whole,
                          f"{len(urls)} engine(s), generation included"
                          + (f"; only {', '.join(args.only)}" if args.only else "")))
    print_table(figures)
    missed = [f for f in figures if not f.met]
    print(f"\n{len(figures) - len(missed)} of {len(figures)} figures meet their target; "
          f"whole run {total:.0f} s.")
    if args.json:
        Path(args.json).write_text(json.dumps([f.as_json() for f in figures], indent=2,
                                              ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"Figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
