"""Fixtures: app -> client -> login, on a fresh database per test (SQLite, and PostgreSQL
when TEST_DATABASE_URL is set). Databases are copied from templates built once by the
real migrations and the real seed."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from governance import create_app
from governance.config import PROJECT_ROOT, database_url
from governance.extensions import db
from governance.services import policies, seeding
from governance.services.actor import Actor

from .openapi_support import assert_documented

PG_URL = os.environ.get("TEST_DATABASE_URL")
ENGINES = ["sqlite"] + (["postgresql"] if PG_URL else [])
TEST_SECRET = "test-secret-key-not-for-production"


def pytest_sessionstart(session):
    """The browser tests' screenshots start afresh, once per run (not once per xdist worker)."""
    if not hasattr(session.config, "workerinput"):
        from .browser.conftest import OUTPUT
        shutil.rmtree(OUTPUT, ignore_errors=True)


class FreshContextClient(FlaskClient):
    """Each request in its own app context, with its own g and database session, as in
    production; the test's own context (and session) stays underneath."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(url: str, **extra):
    # A cheap argon2id cost keeps the suite fast; production keeps the library's defaults.
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url(url),
                       "SECRET_KEY": TEST_SECRET, "ARGON2_TIME_COST": 1,
                       "ARGON2_MEMORY_COST": 256, **extra})


def build_template(url: str, seeded: bool) -> None:
    app = make_app(url)
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        if seeded:
            actor = Actor.system("test")
            seeding.seed_register(db.session, actor, PROJECT_ROOT / "seed", PROJECT_ROOT)
            policies.load_into_register(db.session, actor, PROJECT_ROOT / "policies",
                                        PROJECT_ROOT)
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


class PostgresServer:
    """Creates databases on the server TEST_DATABASE_URL points at, and drops them."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        # Under pytest-xdist each worker builds its own templates beside the others'.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        self.base_name = (parts.path.lstrip("/") or "governance_test") + (
            f"_{worker}" if worker else "")
        self.parts = parts
        self.admin = sa.create_engine(database_url(urlunsplit(parts._replace(path="/postgres"))),
                                      isolation_level="AUTOCOMMIT")
        self.counter = 0

    def url(self, name: str) -> str:
        return urlunsplit(self.parts._replace(path=f"/{name}"))

    def create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"' +
                                 (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    """Per engine, an empty migrated database and a seeded one to copy from."""
    made = {}
    folder = tmp_path_factory.mktemp("templates")
    for seeded in (False, True):
        path = folder / f"{'seeded' if seeded else 'empty'}.sqlite"
        build_template(f"sqlite:///{path}", seeded)
        made[("sqlite", seeded)] = path
    server = None
    if PG_URL:
        server = PostgresServer(PG_URL)
        for seeded in (False, True):
            name = f"{server.base_name}_{'seeded' if seeded else 'empty'}"
            build_template(server.create(name), seeded)
            made[("postgresql", seeded)] = name
    yield made, server
    if server:
        for (engine, _), name in made.items():
            if engine == "postgresql":
                server.drop(name)
        server.admin.dispose()


def fresh_database(templates, engine: str, seeded: bool, tmp_path: Path):
    made, server = templates
    if engine == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copyfile(made[("sqlite", seeded)], path)
        return f"sqlite:///{path}", None
    server.counter += 1
    name = f"{server.base_name}_t{os.getpid()}_{server.counter}"
    return server.create(name, made[("postgresql", seeded)]), name


def _app_fixture(request, templates, tmp_path, seeded: bool):
    url, pg_name = fresh_database(templates, request.param, seeded, tmp_path)
    app = make_app(url, WTF_CSRF_ENABLED=False)

    def reset() -> None:
        """Put the database back as the template made it (for many runs in one test)."""
        db.session.remove()
        db.engine.dispose()
        made, server = templates
        if pg_name:
            server.create(pg_name, made[(request.param, seeded)])
        else:
            path = tmp_path / "test.sqlite"
            for suffix in ("-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            shutil.copyfile(made[("sqlite", seeded)], path)
    app.extensions["test_reset_database"] = reset
    app.config["DATABASE_ENGINE"] = request.param
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    if pg_name:
        templates[1].drop(pg_name)


@pytest.fixture(params=ENGINES)
def app(request, templates, tmp_path):
    """The app on a fresh, seeded database; CSRF off (tests/web checks CSRF on its own)."""
    yield from _app_fixture(request, templates, tmp_path, seeded=True)


@pytest.fixture(params=ENGINES)
def empty_app(request, templates, tmp_path):
    """The app on a fresh database with the schema but no seed."""
    yield from _app_fixture(request, templates, tmp_path, seeded=False)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client):
    """login(username): a logged-in session for the client, as the login page would make."""
    from governance.models import Employee

    def _login(username: str):
        employee = db.session.scalar(sa.select(Employee).where(Employee.username == username))
        with client.session_transaction() as session:
            session["_user_id"] = employee.get_id()
            session["_fresh"] = True
        return employee
    return _login


@pytest.fixture
def api(client):
    """api(username): a client callable sending a fresh bearer token for that user."""
    from governance.services import auth

    tokens: dict[str, str] = {}

    def _for(username: str):
        if username not in tokens:
            tokens[username] = auth.create_token(db.session, Actor.system("test"), username)
            db.session.commit()
        auth_header = {"Authorization": f"Bearer {tokens[username]}"}

        class Caller:
            def open(self, method, path, headers=None, **kw):
                """Every API response is also checked against openapi.json."""
                response = client.open(path, method=method,
                                       headers={**auth_header, **(headers or {})}, **kw)
                assert_documented(response, path, method)
                return response

            def get(self, path, **kw):
                return self.open("GET", path, **kw)

            def post(self, path, **kw):
                return self.open("POST", path, **kw)

            def patch(self, path, **kw):
                return self.open("PATCH", path, **kw)

            def put(self, path, **kw):
                return self.open("PUT", path, **kw)
        return Caller()
    return _for


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
