"""The GDPR data-access governance register: create_app() builds the Flask app."""
from __future__ import annotations

import contextlib
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter

from .config import PROJECT_ROOT, check_database, check_production, from_environment
from .extensions import babel, csrf, db, login_manager, migrate
from .models.base import sqlite_unicode_lower


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(PROJECT_ROOT / "templates"),
                static_folder=str(PROJECT_ROOT / "static"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    check_production(app.config, app.debug)
    check_database(app.config, app.instance_path)
    if app.config["PROXY_COUNT"]:
        # Behind the municipality's reverse proxy: trust its X-Forwarded-* headers only.
        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    if app.config.get("ARGON2_TIME_COST") or app.config.get("ARGON2_MEMORY_COST"):
        from .services import passwords
        passwords.configure(app.config.get("ARGON2_TIME_COST"),
                            app.config.get("ARGON2_MEMORY_COST"))
    app.url_map.converters["id"] = IdConverter
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    from .i18n import compile_catalogues, install_template_gettext, select_locale
    compile_catalogues(Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]))
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app)

    from . import api, errors, web
    web.init_app(app)
    api.init_app(app)
    errors.init_app(app)

    from .cli import register_commands
    register_commands(app)
    return app


class IdConverter(BaseConverter):
    """A row id in a URL: at most 9 digits (ids are 32-bit integers on PostgreSQL), so a
    huge number is a 404, not an overflow."""

    regex = r"\d{1,9}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys, wait for locks instead of failing, use WAL, and know
    lower case beyond A-Z (models.base.unicode_lower)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        # A database opened read-only (a backup being checked) keeps its journal as it is.
        with contextlib.suppress(dbapi_connection.OperationalError):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
        dbapi_connection.create_function("unicode_lower", 1, sqlite_unicode_lower,
                                         deterministic=True)
