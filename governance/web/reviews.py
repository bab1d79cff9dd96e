"""Reviews (P5): the approvers' page of access due and overdue, keep or revoke."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..extensions import db
from ..services import clock
from ..services import reviews as review_service
from ..services.errors import InvalidInput
from . import current_actor, expired_form_message
from .forms import DecisionForm, EmptyForm

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


@bp.get("/")
def index():
    as_of = clock.parse_as_of(request.args.get("as_of"))
    queue = review_service.queue_for(db.session, current_actor(), as_of)
    # Translated once for the page and filled in per access: a translation in a template
    # costs several times what filling in a text does, and the page shows a hundred.
    due_words = {"overdue": _("overdue since %(date)s"), "due": _("due %(date)s")}
    return render_template("reviews/index.html", queue=queue, due_words=due_words,
                           moved=as_of != clock.today())


def _back() -> str:
    """The review page again, on the date it was looked at (a moved ?as_of= is kept). Read
    before anything is changed, so that a bad date refuses the review instead of failing
    after it."""
    as_of = request.args.get("as_of")
    return url_for("reviews.index", as_of=clock.parse_as_of(as_of).isoformat()
                   if as_of else None)


@bp.post("/<id:grant_id>")
def decide(grant_id: int):
    back = _back()
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            review_service.review(db.session, current_actor(), grant_id,
                                  request.form.get("decision", ""), form.comment.data or "")
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return redirect(back + f"#grant-{grant_id}")
        db.session.commit()
        flash(_("Your review is recorded."), "info")
        return redirect(back)
    for field, errors in form.errors.items():   # too long a comment, or an expired form
        for error in ([expired_form_message()] if field == "csrf_token" else errors):
            flash(_("The review was not recorded: %(error)s", error=error), "error")
    return redirect(back + f"#grant-{grant_id}")


@bp.post("/keep")
def bulk_keep():
    """Keep several read accesses of one person with one comment."""
    back = _back()
    if EmptyForm().validate_on_submit():
        # Ids as the URLs take them: at most 9 digits (32-bit keys on PostgreSQL).
        ids = [int(x) for x in request.form.getlist("grant_id")
               if x.isascii() and x.isdigit() and len(x) <= 9]
        try:
            kept = review_service.bulk_keep(db.session, current_actor(), ids,
                                            request.form.get("comment", ""))
        except InvalidInput as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return redirect(back)
        db.session.commit()
        flash(ngettext("%(num)s access kept.", "%(num)s accesses kept.", len(kept)), "info")
    return redirect(back)
