"""Today's date in the municipality's time zone; every use case can be given another."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

MUNICIPAL_TZ = ZoneInfo("Europe/Copenhagen")


def today() -> date:
    return datetime.now(MUNICIPAL_TZ).date()


def local_date(moment: datetime | None) -> date | None:
    return moment.astimezone(MUNICIPAL_TZ).date() if moment else None


def parse_as_of(value: str | None) -> date:
    """An ISO date (YYYY-MM-DD), or today when absent."""
    from .errors import InvalidInput
    if not value:
        return today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_l("'%(value)s' is not a date; use YYYY-MM-DD", value=value),
                           field="as_of") from None
