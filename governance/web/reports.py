"""Reports and exports for the DPO and administrators; the review report also for approvers."""
from __future__ import annotations

from pathlib import Path

from flask import (Blueprint, Response, current_app, flash, render_template, request,
                   send_file, stream_with_context)
from flask_babel import get_locale

from ..extensions import db
from ..services import audit_trail, clock, evidence, policies, reports
from ..services.errors import InvalidInput
from ..services.tabular import XLSX_MEDIA_TYPE, Table, csv_chunks, xlsx_bytes
from . import current_actor, policy_names

bp = Blueprint("reports", __name__, url_prefix="/reports")


def download(table: Table, fmt: str, filename: str) -> Response:
    """CSV streams as it is read from the database; XLSX is built whole, then sent."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}.{fmt}"',
               "Cache-Control": "no-store"}
    if fmt == "csv":
        return Response(stream_with_context(csv_chunks(table)),
                        content_type="text/csv; charset=utf-8", headers=headers)
    return Response(xlsx_bytes(table), content_type=XLSX_MEDIA_TYPE, headers=headers)


@bp.get("/")
def index():
    reports.require_reader(current_actor())
    today = clock.parse_as_of(request.args.get("as_of"))
    return render_template("reports/index.html", today=today,
                           period=reports.parse_period({}, today),
                           policy_names=policy_names(policies.in_force(db.session)))


def formats(path: str):
    """One route per file type (/x.csv and /x.xlsx), so each is a page of its own."""
    def decorate(view):
        for fmt in ("csv", "xlsx"):
            view = bp.get(f"{path}.{fmt}", defaults={"fmt": fmt})(view)
        return view
    return decorate


@formats("/register")
def register(fmt: str):
    reports.require_reader(current_actor())
    return download(reports.register_table(db.session), fmt, f"register-{clock.today()}")


@formats("/requests")
def request_log(fmt: str):
    reports.require_reader(current_actor())
    return download(reports.request_log_table(db.session), fmt, f"requests-{clock.today()}")


@formats("/review-log")
def review_log(fmt: str):
    reports.require_reader(current_actor())
    return download(reports.review_log_table(db.session), fmt, f"reviews-{clock.today()}")


@formats("/audit")
def audit(fmt: str):
    reports.require_reader(current_actor())
    # The audit page's filters, if given: the download is the list on the screen, whole.
    where = audit_trail.conditions(db.session, audit_trail.parse_filters(request.args))
    return download(reports.audit_table(db.session, where=where), fmt,
                    f"audit-{clock.today()}")


@bp.get("/evidence.zip")
def evidence_pack():
    """The evidence pack, as `flask export evidence` writes it, for the DPO at the desk."""
    reports.require_reader(current_actor())
    # One snapshot for every file of the pack: end the transaction this request has read in
    # (the session's employee), so that the pack starts its own (REPEATABLE READ on
    # PostgreSQL).
    db.session.rollback()
    try:
        pack, size = evidence.pack_for_download(db.session, Path(current_app.instance_path),
                                                Path(current_app.config["POLICY_PATH"]))
    finally:
        db.session.rollback()  # read only: end the snapshot
    response = send_file(pack, mimetype="application/zip", as_attachment=True,
                         download_name=f"evidence-{clock.today()}.zip", conditional=False)
    response.headers["Content-Length"] = str(size)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/reviews")
def reviews():
    reports.require_review_report_reader(current_actor())
    as_of = clock.parse_as_of(request.args.get("as_of"))
    cycle = reports.parse_cycle(request.args.get("cycle"), as_of)
    rows = reports.review_report(db.session, cycle, as_of)
    return render_template("reports/reviews.html", rows=rows, cycle=cycle,
                           reference=reports.cycle_reference(cycle, as_of),
                           statuses=reports.REVIEW_STATUSES, how_granted=reports.how_granted)


@formats("/reviews")
def review_report(fmt: str):
    reports.require_review_report_reader(current_actor())
    as_of = clock.parse_as_of(request.args.get("as_of"))
    cycle = reports.parse_cycle(request.args.get("cycle"), as_of)
    rows = reports.review_report(db.session, cycle, as_of)
    table = reports.review_report_table(rows, cycle, str(get_locale()))
    return download(table, fmt, f"review-report-{cycle}")


@bp.get("/status")
def status():
    reports.require_reader(current_actor())
    today = clock.parse_as_of(request.args.get("as_of"))
    entered, status = None, 200
    try:
        start, end = reports.parse_period(request.args, today)
    except InvalidInput as error:
        # Shown on the form, with the dates as typed, over the default period's figures.
        flash(str(error.message), "error")
        entered, status = request.args, 400
        start, end = reports.parse_period({}, today)
    return render_template("reports/status.html", entered=entered,
                           report=reports.status_report(db.session, start, end),
                           policy_names=policy_names(policies.in_force(db.session))), status
