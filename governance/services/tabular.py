"""Tables written as CSV or XLSX for download, safe to open in a spreadsheet."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Iterable, Iterator, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .clock import MUNICIPAL_TZ

Cell = str | int | float | date | datetime | None
# A spreadsheet reads a text cell starting with one of these as a formula (or, with a
# tab or carriage return first, as the start of one): "CSV injection".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_BOM = "\ufeff"  # so that Excel reads UTF-8 and shows æ, ø and å
CSV_BATCH_ROWS = 500
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: str) -> str:
    """Text that a spreadsheet would run as a formula, made inert with a leading quote."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


@dataclass
class Table:
    """A header and rows of plain values (text, numbers, dates, UTC datetimes, None)."""

    title: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Cell]]


def local(moment: datetime) -> datetime:
    return moment.astimezone(MUNICIPAL_TZ)


def csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def csv_chunks(table: Table) -> Iterator[bytes]:
    """The table as UTF-8 CSV (with BOM, comma-separated), a few hundred rows per chunk.
    Every field is quoted: a spreadsheet that splits on ';' or tabs (Danish Excel's list
    separator) would otherwise make '…;=cmd|…' inside a field a cell of its own, a formula
    past the leading-quote defence."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    buffer.write(CSV_BOM)
    writer.writerow([neutralise(str(c)) for c in table.columns])
    for count, row in enumerate(table.rows, start=1):
        writer.writerow([csv_text(value) for value in row])
        if count % CSV_BATCH_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _xlsx_cell(sheet, value: Cell) -> Cell | WriteOnlyCell:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if not value.startswith(FORMULA_STARTS):
            return value
        # A cell typed as text is never run as a formula, so XLSX needs no leading quote
        # (which the reader would see): the text stays as written.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    if isinstance(value, datetime):
        # Excel has no time zones: the municipality's local time, as the screen shows it.
        cell = WriteOnlyCell(sheet, value=local(value).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


def write_xlsx(tables: Sequence[Table], out: IO[bytes]) -> None:
    """The tables as one workbook, a sheet each, in openpyxl's streaming write-only mode."""
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for table in tables:
        # Excel's limits on a sheet's name: 31 characters, none of []:*?/\
        sheet = book.create_sheet(title=re.sub(r"[\[\]:*?/\\]", "", table.title)[:31])
        sheet.freeze_panes = "A2"
        header = []
        for index, column in enumerate(table.columns):
            width = min(max(len(str(column)) + 4, 12), 40)
            sheet.column_dimensions[get_column_letter(index + 1)].width = width
            cell = _xlsx_cell(sheet, str(column))
            cell = WriteOnlyCell(sheet, value=cell) if isinstance(cell, str) else cell
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    book.save(out)


def xlsx_bytes(*tables: Table) -> bytes:
    out = io.BytesIO()
    write_xlsx(tables, out)
    return out.getvalue()
