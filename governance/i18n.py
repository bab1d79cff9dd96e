"""Language: Danish by default, English on request; catalogues compiled when missing."""
from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, g, has_app_context, has_request_context, request, session
from jinja2 import pass_eval_context
from markupsafe import Markup


def select_locale() -> str:
    """Pages: the language chosen in the header, Danish by default. API: Accept-Language,
    Danish by default. Outside a request (the command line, logs): English."""
    if not has_request_context():
        return "en"
    languages = current_app.config["LANGUAGES"]
    if request.blueprint == "api" or request.path.startswith("/api/"):
        return request.accept_languages.best_match(languages, default="da")
    chosen = session.get("lang")
    return chosen if chosen in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def compile_catalogues(directory: Path) -> None:
    """Write each messages.mo that is missing or older than its .po file."""
    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalogue)


def install_template_gettext(app) -> None:
    """Templates translate through the request's catalogue, looked up once per request and
    language instead of once per message.

    Flask-Babel's template gettext resolves the domain, the locale and its catalogue anew
    for every message: about 8 µs each, a third of a millisecond for the layout alone. The
    catalogue is kept here with the locale it belongs to; force_locale() puts another
    locale object in place, so a forced language (or its end) is a new lookup."""
    import flask_babel

    def translations():
        if not has_app_context():
            return flask_babel.get_translations()  # untranslated, as Flask-Babel does
        space = g._get_current_object()  # the request's g, resolved once
        memo = getattr(space, "_template_translations", None)
        if memo is not None and memo[0] is getattr(
                getattr(space, "_flask_babel", None), "babel_locale", None):
            return memo[1]
        found = flask_babel.get_translations()
        space._template_translations = (space._flask_babel.babel_locale, found)
        return found

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)

    @pass_eval_context
    def gettext(eval_ctx, string: str, **variables):
        """Jinja's newstyle gettext (always a format string, escaped values where the
        template autoescapes), calling the catalogue directly rather than through the
        template runtime a second time."""
        text = translations().ugettext(string)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    # `_` straight to it too, not through an alias that looks gettext up again.
    app.jinja_env.globals.update(gettext=gettext, _=gettext)
