"""CSV and XLSX writing: formula injection is neutralised the same way in both formats."""
import csv
import io
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook

from governance.services.tabular import Table, csv_chunks, neutralise, xlsx_bytes


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+45 1234", "'+45 1234"), ("-1+1", "'-1+1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("Kontrol af ophold", "Kontrol af ophold"), ("", ""), ("a=b", "a=b"), ("'=x", "'=x"),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def table(rows):
    return Table("test", ["id", "text", "day", "moment"], rows)


ROWS = [[1, "=1+1", date(2026, 3, 1), datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)],
        [2, "Ærø og Åbenrå", None, None], [-3, "-", date(2026, 12, 31), None]]


def test_csv_has_bom_comma_iso_dates_and_inert_formulas():
    data = b"".join(csv_chunks(table(ROWS)))
    assert data.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["id", "text", "day", "moment"],
                    ["1", "'=1+1", "2026-03-01", "2026-03-01T10:30:00+01:00"],
                    ["2", "Ærø og Åbenrå", "", ""], ["-3", "'-", "2026-12-31", ""]]


def test_csv_streams_in_chunks():
    chunks = list(csv_chunks(table([[i, "x", None, None] for i in range(1200)])))
    assert len(chunks) == 3
    assert b"".join(chunks).decode("utf-8-sig").count("\r\n") == 1201


def test_xlsx_keeps_types_and_neutralises_formulas():
    book = load_workbook(io.BytesIO(xlsx_bytes(table(ROWS))))
    sheet = book["test"]
    rows = list(sheet.values)
    assert rows[0] == ("id", "text", "day", "moment")
    assert rows[1][:2] == (1, "=1+1") and sheet["B2"].data_type == "s"   # text, not run
    assert rows[1][2] == datetime(2026, 3, 1) and rows[1][3] == datetime(2026, 3, 1, 10, 30)
    assert rows[2] == (2, "Ærø og Åbenrå", None, None)
    assert rows[3][:2] == (-3, "-") and sheet["B4"].data_type == "s"
    assert sheet.freeze_panes == "A2"


def test_xlsx_drops_characters_xml_cannot_hold():
    book = load_workbook(io.BytesIO(xlsx_bytes(table([[1, "a\x00b\x0bc", None, None]]))))
    assert book["test"]["B2"].value == "abc"
