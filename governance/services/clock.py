"""Today's date in the municipality's time zone; every use case can be given another."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask_babel import lazy_gettext as _l

MUNICIPAL_TZ = ZoneInfo("Europe/Copenhagen")


def today() -> date:
    return datetime.now(MUNICIPAL_TZ).date()


def local_date(moment: datetime | None) -> date | None:
    return moment.astimezone(MUNICIPAL_TZ).date() if moment else None


def day_end(day: date) -> datetime:
    """The first moment after the municipality's day: what happened by the end of `day` is
    before it."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=MUNICIPAL_TZ)


def parse_as_of(value: str | None) -> date:
    """An ISO date (YYYY-MM-DD), or today when absent."""
    return parse_date(value, "as_of") if value else today()


# Exactly YYYY-MM-DD: date.fromisoformat alone also takes 20261201 and week dates.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# The days a register speaks of. Far outside them, a year or a month added or taken off
# (review dates, a day's end in UTC) runs past what a date can hold.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def parse_date(value: str, field: str) -> date:
    """A date given as YYYY-MM-DD; anything else is a 400 naming the field."""
    from .errors import InvalidInput
    value = value.strip()
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_l("'%(value)s' is not a date; use YYYY-MM-DD", value=value),
                           field=field) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(_l("%(value)s is outside the dates the register speaks of "
                              "(%(first)s to %(last)s)", value=value,
                              first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()),
                           field=field)
    return day


@lru_cache(maxsize=8192)
def day_text(day: date, locale: str) -> str:
    """A date as the interface and the mails write it ("3. maj 2024", "May 3, 2024")."""
    return format_date(day, "medium", locale=locale)
