"""The DPO's dashboard, and the lists behind its figures."""
from __future__ import annotations

from datetime import date
from functools import partial

from babel.dates import format_date
from flask import Blueprint, render_template, request
from flask_babel import get_locale

from ..domain.rules import RULE_PRINCIPLES
from ..extensions import db
from ..services import clock, dashboard
from ..services import grants as grant_service
from . import PER_PAGE, current_actor, page_arg

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("/")
def index():
    as_of = clock.parse_as_of(request.args.get("as_of"))
    board = dashboard.build(db.session, current_actor(), as_of)
    return render_template(
        "dashboard/index.html", board=board, lists=dashboard.GRANT_LISTS, today=clock.today(),
        system_chart=dashboard.bar_chart(list(board.by_system.items())),
        due_chart=dashboard.bar_chart([(_month(label), n) for label, n in board.due_by_month],
                                      label_width=80))


def _month(label: str) -> str:
    """'2026-12' as the page's language writes a month: 'dec. 2026', 'Dec 2026'."""
    year, month = (int(part) for part in label.split("-"))
    return format_date(date(year, month, 1), "MMM y", locale=str(get_locale()))


def _waited(as_of, ended) -> int | None:
    """Days from the end of an access to `as_of`; none when `as_of` is before the end."""
    days = (as_of - clock.local_date(ended)).days
    return days if days >= 0 else None


@bp.get("/list/<name>")
def grant_list(name: str):
    as_of = clock.parse_as_of(request.args.get("as_of"))
    system = grant_service.system_filter(db.session, request.args.get("system"))
    rows, total = dashboard.grant_list(db.session, current_actor(), name, as_of, system,
                                       page_arg(), PER_PAGE)
    return render_template("dashboard/list.html", rows=rows, total=total, name=name,
                           as_of=as_of, today=clock.today(),
                           waited=partial(_waited, as_of)
                           if name in dashboard.ENDED_LISTS else None,
                           title=dashboard.GRANT_LISTS[name][0], system=system,
                           page=page_arg(), per_page=PER_PAGE,
                           pager_args={"name": name, "as_of": as_of.isoformat(),
                                       **({"system": system} if system else {})})


@bp.get("/findings")
def findings():
    as_of = clock.parse_as_of(request.args.get("as_of"))
    rule = request.args.get("rule") or None
    found = dashboard.rule_findings(db.session, current_actor(), as_of, rule, page_arg(),
                                    PER_PAGE)
    return render_template("dashboard/findings.html", found=found, today=clock.today(),
                           principle_of=RULE_PRINCIPLES,
                           page=page_arg(), per_page=PER_PAGE,
                           pager_args={"rule": rule, "as_of": as_of.isoformat()})
