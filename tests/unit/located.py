"""Checking that a SourceError names file, line, entry and field, for the loader tests."""
from pathlib import Path

from governance.domain.source import SourceError


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th occurrence of needle in text."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1


def assert_located(error: SourceError, path: Path | str, *, entry: str = "", field: str = "",
                   line: int | None = None, says: str = "") -> None:
    text = str(error)
    assert error.file == str(path), text
    assert text.startswith(str(path)), text
    if entry:
        assert error.entry == entry, text
        assert f"entry {entry}," in text or f"entry {entry}:" in text, text
    if field:
        assert error.field == field, text
        assert f"field '{field}'" in text, text
    if line is not None:
        assert error.line == line, text
        assert text.startswith(f"{path}:{line}"), text
    assert says in error.detail, text
    assert says in text
