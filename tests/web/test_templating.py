"""The template helpers the list pages lean on: the same output as Flask's and Babel's own."""
from datetime import date, datetime, timezone

import pytest
from flask import render_template_string, url_for

from governance.web import id_url


def test_id_url_builds_what_url_for_builds(app):
    with app.test_request_context("/"):
        for endpoint, argument in (("grants.detail", "grant_id"),
                                   ("requests.detail", "request_id"),
                                   ("reviews.decide", "grant_id")):
            build = id_url(endpoint, argument)
            for value in (1, 42, 999_999_998):
                assert build[value] == url_for(endpoint, **{argument: value})


@pytest.mark.parametrize("lang, expected", [("da", "3. maj 2024"), ("en", "May 3, 2024")])
def test_format_date_in_the_page_language(app, lang, expected):
    with app.test_request_context("/"):
        from flask import session
        session["lang"] = lang
        # 23:30 UTC on 2 May is 3 May in Copenhagen: the local day is shown.
        moment = datetime(2024, 5, 2, 23, 30, tzinfo=timezone.utc)
        assert render_template_string("{{ m | format_date }}|{{ d | format_date }}|"
                                       "{{ none | format_date }}",
                                       m=moment, d=date(2024, 5, 3), none=None) == \
            f"{expected}|{expected}|–"


@pytest.mark.parametrize("lang, expected", [("da", "3. maj 2024 kl. 01.30"),
                                             ("en", "May 3, 2024, 01:30")])
def test_format_datetime_in_the_page_language_and_local_time(app, lang, expected):
    with app.test_request_context("/"):
        from flask import session
        session["lang"] = lang
        moment = datetime(2024, 5, 2, 23, 30, tzinfo=timezone.utc)
        assert render_template_string("{{ m | format_datetime }}|{{ none | format_datetime }}",
                                      m=moment, none=None) == f"{expected}|–"


@pytest.mark.parametrize("lang, expected", [("da", "skriveadgang"), ("en", "write")])
def test_label_filter_in_the_page_language(app, lang, expected):
    with app.test_request_context("/"):
        from flask import session
        session["lang"] = lang
        assert render_template_string("{{ 'write' | label }}") == expected


def test_translated_text_escapes_its_values(app):
    """The template gettext translates, and escapes what is put into the text."""
    with app.test_request_context("/"):
        out = render_template_string("{{ _('due %(date)s', date=value) }}|{{ _('Keep') }}",
                                     value="<script>")
        assert out == "senest &lt;script&gt;|Fasthold"


def test_template_translations_follow_a_forced_language(app):
    """A template rendered under force_locale (say, a message in its reader's language)
    is translated into that language, and the page's own language comes back after."""
    from flask_babel import force_locale
    with app.test_request_context("/"):
        keep = app.jinja_env.from_string("{{ _('Keep') }}")
        assert keep.render() == "Fasthold"
        with force_locale("en"):
            assert keep.render() == "Keep"
        assert keep.render() == "Fasthold"
