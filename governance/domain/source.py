"""Strict reading of YAML files: every error names file, line, entry and field."""
from __future__ import annotations

import difflib
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from .vocabulary import unstorable


class SourceError(ValueError):
    """A YAML file that does not say what it must, located for a person to fix."""

    def __init__(self, file: str, message: str, *, entry: str = "", field: str = "",
                 line: int | None = None):
        self.file, self.entry, self.field, self.line = str(file), entry, field, line
        self.detail = message
        where = self.file + (f":{line}" if line else "")
        parts = [where]
        if entry:
            parts.append(f"entry {entry}")
        if field:
            parts.append(f"field '{field}'")
        super().__init__(", ".join(parts) + f": {message}")


class LocatedDict(dict):
    """A mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    """SafeLoader whose mappings remember their lines (constructor registered below)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocatedDict:
    key_lines: dict[str, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in key_lines:
            raise SourceError(loader.name, f"key '{key}' appears twice",
                              line=key_node.start_mark.line + 1)
        key_lines[key] = key_node.start_mark.line + 1
    mapping = LocatedDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = key_lines
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode):
    """A value written as a date that is no day of the calendar (2024-13-01, 2024-02-30):
    said with its line, not a traceback."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise SourceError(loader.name, f"'{node.value}' is not a date of the calendar "
                                       f"({exc}); write a real day as YYYY-MM-DD",
                          line=node.start_mark.line + 1) from exc


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def read_yaml(path: Path | str, display_name: str | None = None) -> Any:
    """Parse one YAML file; syntax errors become SourceError with the line."""
    name = display_name or str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(name, f"cannot be read: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise SourceError(name, f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}; "
                                "perhaps saved as Latin-1 or UTF-16): save it as UTF-8",
                          line=line) from exc
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> Any:
    """Parse YAML text that came from the file called name."""
    loader = _Loader(text)
    loader.name = name
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise SourceError(name, f"is not valid YAML: {exc.problem}", line=line) from exc
    except yaml.YAMLError as exc:
        raise SourceError(name, f"is not valid YAML: {exc}") from exc
    finally:
        loader.dispose()


_TYPE_NAMES = {str: "text", int: "a whole number", bool: "true/false", list: "a list",
               dict: "a mapping"}


LANGUAGES = ("_da", "_en")


def _other_language(key: str, field: str) -> bool:
    """name_en and name_da: the same text in the other language, not a misspelling."""
    return key != field and any(key.endswith(a) for a in LANGUAGES) and \
        any(field.endswith(b) for b in LANGUAGES) and key[:-3] == field[:-3]


def _described(value: Any) -> str:
    """A YAML value as its writer would know it: YAML reads yes/no as true/false, and
    2024-01-01 as a date."""
    if isinstance(value, bool):
        return f"the true/false value {str(value).lower()}"
    if isinstance(value, (date, datetime)):
        return f"the date {value.isoformat()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return repr(value)


class Entry:
    """Reads the fields of one mapping in a file, refusing what it does not expect."""

    def __init__(self, file: str, entry: str, value: Any, line: int | None = None):
        self.file, self.entry = file, entry
        self.line = getattr(value, "line", None) or line
        if not isinstance(value, dict):
            raise SourceError(file, "must be a mapping of field: value", entry=entry,
                              line=self.line)
        self.value = value
        self.seen: set[str] = set()

    def error(self, field: str, message: str) -> SourceError:
        line = getattr(self.value, "key_lines", {}).get(field, self.line)
        return SourceError(self.file, message, entry=self.entry, field=field, line=line)

    def required(self, field: str, kind: type = str, max_length: int | None = None,
                 one_line: bool = False) -> Any:
        value = self.value.get(field)
        if value is None or isinstance(value, str) and not value.strip():
            self.seen.add(field)
            # A key not yet read that looks like this one is probably it, misspelt; but not
            # its other language (name_en for name_da), which is a field of its own.
            misspelt = [key for key in self.value if key not in self.seen and
                        not _other_language(str(key), field) and
                        difflib.get_close_matches(str(key), [field], n=1)]
            if misspelt:
                raise self.error(str(misspelt[0]), f"unknown key '{misspelt[0]}'; did you mean "
                                                   f"'{field}'? ('{field}' is required)")
            raise self.error(field, "is required")
        return self.optional(field, kind, max_length=max_length, one_line=one_line)

    def optional(self, field: str, kind: type = str, default: Any = None,
                 max_length: int | None = None, one_line: bool = False) -> Any:
        """The field's value if given; text stripped, and with `one_line` (a name, a title:
        e-mails carry them in their headers) without line breaks or tabs."""
        self.seen.add(field)
        if field not in self.value or self.value[field] is None:
            return default
        value = self.value[field]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            raise self.error(field, f"must be {_TYPE_NAMES.get(kind, kind.__name__)}, "
                                    f"not {_described(value)}"
                                    + (" (write it in quotes)" if kind is str and isinstance(
                                        value, (bool, int, float, date)) else ""))
        if kind is str:
            bad = unstorable(value.strip(), one_line=one_line)
            if bad:
                what = "a control character" + (", line break or tab" if one_line else "")
                raise self.error(field, f"holds a character that cannot be stored ({bad}, "
                                        f"{what}): remove it")
            # One spelling of æ, ø and å: a file saved on a Mac may decompose them (NFD),
            # which compares unequal to the register's and would read as a change.
            value = unicodedata.normalize("NFC", value.strip())
            if max_length is not None and len(value) > max_length:
                raise self.error(field, f"is {len(value)} characters long; at most "
                                        f"{max_length} fit")
        return value

    def text_list(self, field: str, *, required: bool = True,
                  allowed: set[str] | None = None, what: str = "value") -> list[str]:
        values = (self.required(field, list) if required
                  else self.optional(field, list)) or []
        for value in values:
            if not isinstance(value, str):
                raise self.error(field, f"every item must be text, not {_described(value)}")
            if unstorable(value, one_line=True):
                raise self.error(field, f"holds a character that cannot be stored "
                                        f"({unstorable(value, one_line=True)}): remove it")
            if allowed is not None and value not in allowed:
                raise self.error(field, unknown(what, value, allowed))
        if len(set(values)) != len(values):
            raise self.error(field, "lists the same value twice")
        return values

    def choice(self, field: str, allowed: set[str], what: str, *, required: bool = True,
               default: str | None = None) -> str:
        value = self.required(field) if required else self.optional(field, str, default)
        if value is not None and value not in allowed:
            raise self.error(field, unknown(what, value, allowed))
        return value

    def child(self, field: str, value: Any, label: str) -> "Entry":
        line = getattr(self.value, "key_lines", {}).get(field, self.line)
        return Entry(self.file, f"{self.entry} > {label}" if self.entry else label,
                     value, line)

    def done(self) -> None:
        """Refuse keys nobody reads: a misspelt key must not be silently ignored."""
        for key in self.value:
            if key not in self.seen:
                hint = difflib.get_close_matches(str(key), sorted(self.seen), n=1)
                extra = f"; did you mean '{hint[0]}'?" if hint else (
                    f"; expected one of: {', '.join(sorted(self.seen))}")
                raise self.error(str(key), f"unknown key '{key}'{extra}")


def unknown(what: str, value: Any, allowed: set[str] | list[str]) -> str:
    """The message for a value outside its vocabulary, with the nearest match (the same
    letters in another case first: usernames and codes are written in one case)."""
    same_letters = [a for a in sorted(allowed) if str(a).lower() == str(value).lower()]
    hint = same_letters or difflib.get_close_matches(str(value), sorted(allowed), n=1)
    if hint:
        return f"unknown {what} '{value}'; did you mean '{hint[0]}'?"
    if not allowed:
        return f"unknown {what} '{value}'; none is defined in what was read"
    return f"unknown {what} '{value}'; expected one of: {', '.join(sorted(allowed))}"
