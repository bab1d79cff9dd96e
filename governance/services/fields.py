"""Reading the fields of a change given as a mapping (the HR feed's JSON, a form's input):
unknown fields, text, required fields; each refusal a 400 that names the field."""
from __future__ import annotations

from enum import StrEnum
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l

from ..domain.vocabulary import unstorable
from .errors import InvalidInput, within


def known(data: Any, allowed: Iterable[str]) -> dict:
    """The data, if it is an object holding only allowed fields."""
    if not isinstance(data, dict):
        raise InvalidInput(_l("The body must be a JSON object"))
    allowed = tuple(allowed)
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(_l("Unknown or read-only field '%(field)s'; expected: %(allowed)s",
                              field=unknown[0], allowed=", ".join(allowed)), field=unknown[0])
    return data


def text(data: dict, key: str, limit: int, *, may_be_empty: bool = False) -> str:
    """data[key] as stripped text of one line that fits `limit` characters (a name, a
    title: a line break in one would break the e-mails that carry it)."""
    value = data[key]
    if not isinstance(value, str) or (not may_be_empty and not value.strip()):
        raise InvalidInput(_l("'%(field)s' must be non-empty text", field=key), field=key)
    bad = unstorable(value.strip(), one_line=True)
    if bad:
        raise InvalidInput(_l("'%(field)s' holds a character that cannot be stored in one "
                              "line (%(char)s): remove it", field=key, char=bad), field=key)
    return within(value.strip(), key, limit)


def required(values: dict, keys: Iterable[str]) -> dict:
    """The values, if each key is among them."""
    for key in keys:
        if key not in values:
            raise InvalidInput(_l("'%(field)s' is required", field=key), field=key)
    return values


def status_filter(value: str | None, statuses: type[StrEnum], message) -> str | None:
    """A list's ?status= filter, for the page and the API alike: one of `statuses`, or none
    (None); else a 400 with `message`, which says what there are (a list said to be
    filtered must be)."""
    if value is not None and (not isinstance(value, str)
                              or value not in {s.value for s in statuses}):
        raise InvalidInput(message, field="status")
    return value
