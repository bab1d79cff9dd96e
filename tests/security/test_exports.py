"""An exported cell that starts like a formula is neutralised (CSV and XLSX)."""
import csv
import io

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
    workbook = load_workbook(io.BytesIO(client.get("/reports/register.xlsx").data))
    values = [c.value for row in workbook.active.iter_rows() for c in row
              if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert values and all(v.startswith("'=") for v in values)
    assert grant.tasks.startswith("=")
