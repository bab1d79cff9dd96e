"""Language: Danish by default, English on request; catalogues compiled when missing."""
from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, has_request_context, request, session


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
