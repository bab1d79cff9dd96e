"""Configuration from the environment, with safe defaults for the embedded mode."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import click

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def database_url(url: str) -> str:
    """Pick the installed driver for the usual URL forms (postgresql://, postgres://)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class ConfigurationError(click.ClickException):
    """A setting the app cannot start with, said so that a person can fix it. A click
    error, so that a command run with it (`flask --app wsgi db upgrade`) prints the
    message and exits 1, rather than a traceback."""


class UnsafeConfiguration(ConfigurationError):
    """The app would run in production with a setting that makes it unsafe."""


def _whole_number(name: str, default: str, least: int) -> int:
    value = os.environ.get(name, default)
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < least:
        raise ConfigurationError(f"{name} must be a whole number of at least {least}, "
                                 f"not '{value}'")
    return number


DEV_SECRET_KEY = "dev-only-not-secret"
MIN_SECRET_KEY_LENGTH = 32


def from_environment(instance_path: str) -> dict:
    default_db = f"sqlite:///{Path(instance_path) / 'governance.sqlite'}"
    production = os.environ.get("APP_ENV", "development") == "production"
    return {
        "APP_ENV": "production" if production else "development",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "" if production else DEV_SECRET_KEY),
        "SESSION_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # Hops of reverse proxy in front of the app whose X-Forwarded-* headers are trusted.
        "PROXY_COUNT": _whole_number("PROXY_COUNT", "1" if production else "0", 0),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL", default_db)),
        "POLICY_PATH": os.environ.get("POLICY_PATH", str(PROJECT_ROOT / "policies")),
        "SEED_PATH": os.environ.get("SEED_PATH", str(PROJECT_ROOT / "seed")),
        "BABEL_DEFAULT_LOCALE": "da",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Copenhagen",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        "LANGUAGES": ("da", "en"),
        "SESSION_COOKIE_HTTPONLY": True,
        # A login lasts this long after the last page it opened (the session is refreshed
        # on each request): a cookie copied from a shared PC stops working.
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_whole_number("SESSION_HOURS", "8", 1)),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND",
                                       "smtp" if os.environ.get("MAIL_SERVER") else "console"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _whole_number("MAIL_PORT", "25", 1),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "true").lower() in ("1", "true", "yes"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "dataadgang@htk.dk"),
        # The municipality the register serves: in the footer, reports and e-mails.
        "MUNICIPALITY": os.environ.get("MUNICIPALITY", "Høje-Taastrup Kommune"),
    }


def check_database(config: dict, instance_path: str) -> None:
    """A SQLite file in a folder that does not exist cannot be opened: say which folder,
    rather than fail at the first statement with 'unable to open database file'. A relative
    path is taken from the instance folder, as Flask-SQLAlchemy takes it."""
    from sqlalchemy.engine import make_url
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:") \
            or url.database.startswith("file:"):
        return
    folder = (Path(instance_path) / url.database).parent
    if not folder.is_dir():
        raise ConfigurationError(
            f"DATABASE_URL names the SQLite file {url.database}, but the folder {folder} "
            f"does not exist: create it (mkdir -p {folder}) or correct DATABASE_URL")


def check_production(config: dict, debug: bool) -> None:
    """Refuse to start in production with a default, empty or short secret, or with debug."""
    if config.get("APP_ENV") != "production":
        return
    secret = config.get("SECRET_KEY") or ""
    if secret == DEV_SECRET_KEY or len(secret) < MIN_SECRET_KEY_LENGTH:
        raise UnsafeConfiguration(
            f"APP_ENV=production needs SECRET_KEY set to a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters, e.g. python3 -c 'import secrets; "
            f"print(secrets.token_urlsafe(48))'")
    if debug:
        raise UnsafeConfiguration("APP_ENV=production must not run with debug on "
                                  "(unset FLASK_DEBUG)")
