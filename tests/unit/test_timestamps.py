"""UTC timestamps as SQLite hands them back: aware, in UTC, whatever shape the text has."""
from datetime import datetime, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from governance.models.base import UTCDateTime


@pytest.mark.parametrize("stored, expected", [
    ("2024-07-20 08:34:52.469819", datetime(2024, 7, 20, 8, 34, 52, 469819, timezone.utc)),
    ("2024-07-20 08:34:52", datetime(2024, 7, 20, 8, 34, 52, tzinfo=timezone.utc)),
    (None, None),
])
def test_sqlite_text_becomes_an_aware_utc_datetime(stored, expected):
    read = UTCDateTime()._cached_result_processor(sqlite.dialect(), None)
    value = read(stored)
    assert value == expected
    if value is not None:
        assert value.utcoffset().total_seconds() == 0


def test_other_text_is_left_to_sqlalchemys_own_reading():
    """Text SQLAlchemy did not write goes to its own parser, which refuses this as before."""
    read = UTCDateTime()._cached_result_processor(sqlite.dialect(), None)
    with pytest.raises(ValueError, match="2024-7-20 8:34:52'"):
        read("2024-7-20 8:34:52")


def test_postgresql_keeps_the_general_conversion():
    read = UTCDateTime()._cached_result_processor(postgresql.psycopg.dialect(), None)
    moment = datetime(2024, 7, 20, 10, 34, 52, tzinfo=timezone.utc).astimezone()
    assert read(moment) == moment and read(moment).tzinfo is timezone.utc
