"""The Danish catalogue is complete and safe: every English string in the code has a Danish
translation with the same placeholders. Pure: reads files only, no app and no database."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "babel.cfg"
CATALOGUE = ROOT / "translations" / "da" / "LC_MESSAGES" / "messages.po"
# The same keywords as `pybabel extract -k _l -k lazy_gettext` (see README.md).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
HOW_TO_FIX = ("run the extract and update commands under 'Translations' in README.md, "
              "then translate in translations/da/LC_MESSAGES/messages.po")

# A printf-style conversion: %(name)s, %s, %5.2f, and the literal %%.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"
                         r"[diouxXeEfFgGcrsa%]")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def forms(value: str | tuple | list) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def msgid_key(message_id: str | tuple | list, context: str | None) -> tuple[str, str | None]:
    return forms(message_id)[0], context


@pytest.fixture(scope="module")
def catalogue():
    with CATALOGUE.open("rb") as po_file:
        return read_po(po_file, locale="da")


@pytest.fixture(scope="module")
def extracted() -> list[tuple[str, int, str | tuple, str | None]]:
    """The messages in the source now, as (file, line, msgid, context), per babel.cfg."""
    with MAPPING.open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(MAPPING))
    return [(filename, lineno, message, context)
            for filename, lineno, message, _comments, context
            in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)]


def test_every_message_has_a_danish_translation(catalogue):
    problems = []
    for message in catalogue:
        if not message.id:
            continue  # the header
        if message.fuzzy:
            problems.append(f"fuzzy (check it and remove the flag): {message.id!r}")
        elif not all(text.strip() for text in forms(message.string)):
            problems.append(f"not translated: {message.id!r}")
    assert len(catalogue) > 0
    assert not problems, "\n".join(problems)


def test_translations_keep_the_placeholders_of_their_msgid(catalogue):
    # Checked for every message, not only python-format ones: the templates' gettext
    # always applies %-formatting, so a stray % in a translation breaks the page.
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        ids = forms(message.id)
        for index, text in enumerate(forms(message.string)):
            if not text:
                continue
            source = ids[min(index, len(ids) - 1)]
            if placeholders(text) != placeholders(source):
                problems.append(f"{message.id!r}: {placeholders(source)} in the English, "
                                f"{placeholders(text)} in {text!r}")
    assert not problems, "\n".join(problems)


def test_source_strings_are_all_in_the_danish_catalogue(catalogue, extracted):
    known = {msgid_key(message.id, message.context) for message in catalogue if message.id}
    files = {filename.replace("\\", "/").split("/", 1)[0] for filename, *_ in extracted}
    # Guard against an extraction that silently finds nothing (a broken babel.cfg).
    assert {"governance", "templates"} <= files, f"extraction found messages only in {files}"
    missing = sorted({(filename, lineno, forms(message)[0])
                      for filename, lineno, message, context in extracted
                      if msgid_key(message, context) not in known})
    assert not missing, (
        f"{len(missing)} English string(s) missing from the Danish catalogue ({HOW_TO_FIX}):\n"
        + "\n".join(f"  {filename}:{lineno}: {msgid!r}" for filename, lineno, msgid in missing))
