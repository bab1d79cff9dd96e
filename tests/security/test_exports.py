"""An exported cell that starts like a formula is neutralised (CSV and XLSX)."""
import csv
import io
import zipfile

from openpyxl import load_workbook

from ..services.workflow import active_grant

FORMULA = '=HYPERLINK("http://evil.example","Klik") kontrol af lovligt ophold i sager'


def test_formula_in_the_register_export_is_neutralised(app, client, login):
    from governance.services import clock
    grant = active_grant(clock.today(), tasks=FORMULA)
    login("dpo")
    rows = list(csv.reader(io.StringIO(client.get("/reports/register.csv").get_data(
        as_text=True).lstrip("\ufeff"))))
    cell = next(value for row in rows[1:] for value in row if "HYPERLINK" in value)
    assert cell.startswith("'=")
    # In XLSX the cell is typed as text (an inline string, no formula element): Excel and
    # LibreOffice show it as written and never run it.
    data = client.get("/reports/register.xlsx").data
    workbook = load_workbook(io.BytesIO(data))
    cells = [c for row in workbook.active.iter_rows() for c in row
             if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.value == FORMULA and c.data_type == "s" for c in cells)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and 't="inlineStr"><is><t>=HYPERLINK' in sheet
    assert grant.tasks.startswith("=")
