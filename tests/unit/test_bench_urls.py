"""The bench commands read a SQLite path as the person typing it means it."""
from pathlib import Path

from bench.generate import command_line_url


def test_a_relative_sqlite_path_is_taken_from_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert command_line_url("sqlite:///bench/b.sqlite") == \
        f"sqlite:///{tmp_path / 'bench' / 'b.sqlite'}"


def test_absolute_paths_and_postgresql_urls_are_left_as_given(tmp_path):
    absolute = f"sqlite:///{Path('/var/lib/bench.sqlite')}"
    assert command_line_url(absolute) == absolute
    assert command_line_url("postgres://u@h/bench") == "postgresql+psycopg://u@h/bench"
    assert command_line_url("sqlite:///:memory:") == "sqlite:///:memory:"
