"""Language: Danish by default, English on request; catalogues compiled when missing."""
from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_translations
from jinja2 import pass_context
from markupsafe import Markup


def select_locale() -> str:
    """Pages: the language chosen in the header, Danish by default. API: Accept-Language,
    Danish by default. Outside a request (the command line, logs): English."""
    if not has_request_context():
        return "en"
    languages = current_app.config["LANGUAGES"]
    if request.blueprint == "api":
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


def install_template_gettext(app: Flask) -> None:
    """Templates translate through the request's catalogue, found once per request, and
    call it directly. Flask-Babel's callables find the catalogue again for every message,
    and Jinja's wrappers add two more calls; a page has hundreds of messages. Same
    behaviour as Jinja's newstyle gettext: the text is escaped as markup, then formatted
    with the keyword arguments."""
    def catalogue():
        if not has_request_context():
            return get_translations()
        found = g.get("_catalogue")
        if found is None:
            found = g._catalogue = get_translations()
        return found

    @pass_context
    def gettext(context, message: str, **variables) -> str:
        text = catalogue().ugettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables or "%" in text else text

    @pass_context
    def ngettext(context, singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        text = catalogue().ungettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    app.jinja_env.install_gettext_callables(
        lambda message: catalogue().ugettext(message),
        lambda singular, plural, n: catalogue().ungettext(singular, plural, n),
        newstyle=True)
    app.jinja_env.globals.update(gettext=gettext, ngettext=ngettext, _=gettext)
