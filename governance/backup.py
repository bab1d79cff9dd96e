"""Backup and restore of the whole database: SQLite's online backup, pg_dump/pg_restore."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why."""


def _pg_command_url(url: URL) -> str:
    """The libpq form of the URL for pg_dump and pg_restore (no SQLAlchemy driver)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"'{name}' is not installed; install the PostgreSQL client "
                          f"(Debian: apt-get install postgresql-client)")
    return path


def backup(database_url: str, out: Path) -> Path:
    """Write a consistent copy of the live database to out, without stopping the app."""
    url, out = make_url(database_url), Path(out)
    if not out.parent.is_dir():   # a mistyped path is said, not made into folders
        raise BackupError(f"the folder {out.parent} does not exist: create it first, or name "
                          "a file in a folder that does")
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(url.database)
        target = sqlite3.connect(out)
        try:
            source.backup(target)  # SQLite's online backup API: a consistent snapshot
            # One self-contained file: the copy would keep the live database's WAL mode,
            # and grow -wal and -shm files beside it wherever it is opened.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
            source.close()
        return out
    result = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner",
                             f"--file={out}", _pg_command_url(url)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return out


def backup_entries(source_file: Path) -> int | None:
    """How many audit entries a SQLite backup holds; None where that cannot be read
    without restoring it (a PostgreSQL dump)."""
    try:
        source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
        try:
            return source.execute("SELECT count(*) FROM audit_entries").fetchone()[0]
        finally:
            source.close()
    except sqlite3.DatabaseError:
        return None


def restore(database_url: str, source_file: Path) -> None:
    """Replace the database's content with the backup (the target should be fresh)."""
    url, source_file = make_url(database_url), Path(source_file)
    if not source_file.is_file():
        raise BackupError(f"{source_file}: no such backup file")
    if url.get_backend_name() == "sqlite":
        try:
            source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source_file} is not a SQLite backup: {error}") from error
        target = sqlite3.connect(url.database)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    result = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                             "--single-transaction", "--exit-on-error",
                             f"--dbname={_pg_command_url(url)}", str(source_file)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
