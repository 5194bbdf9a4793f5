"""Language negotiation and the completeness of the Swedish catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from pallapp.extensions import db
from pallapp.models import Role
from tests.factories import make_unit, make_user

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "translations" / "sv" / "LC_MESSAGES" / "messages.po"


@pytest.mark.parametrize(
    ("accept_language", "lang", "text"),
    [
        (None, "sv", "Logga in"),
        ("sv-SE,sv;q=0.9", "sv", "Logga in"),
        ("en-GB,en;q=0.8", "en", "Log in to pallapp"),
        ("de-DE,en;q=0.5", "en", "Log in to pallapp"),
        ("de-DE,fr;q=0.5", "sv", "Logga in"),
    ],
)
def test_language_from_the_browser_else_swedish(client, accept_language, lang, text):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    page = client.get("/login", headers=headers)
    assert f'<html lang="{lang}">'.encode() in page.data
    assert text.encode() in page.data


def test_the_users_setting_beats_the_browser(app, client, auth):
    with app.app_context():
        email = make_user(Role.NURSE, units=[make_unit()], language="en").email
        db.session.commit()
    auth.login(email)
    page = client.get("/today", headers={"Accept-Language": "sv"})
    assert b'<html lang="en">' in page.data
    assert b"Patients in your units" in page.data


def test_choosing_a_language_before_login_sticks(client):
    response = client.post("/language", data={"language": "en", "next": "/login"})
    assert response.location == "/login"
    page = client.get("/login", headers={"Accept-Language": "sv"})
    assert b'<html lang="en">' in page.data


def test_choosing_a_language_saves_it_for_the_user(app, client, auth):
    with app.app_context():
        email = make_user(Role.NURSE, units=[make_unit()]).email
        db.session.commit()
    auth.login(email)
    client.post("/language", data={"language": "en", "next": "/today"})
    auth.logout()
    auth.login(email)
    assert b'<html lang="en">' in client.get("/today", headers={"Accept-Language": "sv"}).data


def test_unknown_language_is_refused(client):
    assert client.post("/language", data={"language": "de"}).status_code == 400


def test_the_language_switch_offers_every_other_configured_language(client):
    page = client.get("/login", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert 'value="en" lang="en">English</button>' in page
    assert 'value="sv"' not in page  # the page is already in Swedish


class TestAThirdLanguageIsConfigurationOnly:
    """Adding a language is a catalogue and a configuration entry (README): the switch and the
    form that receives it follow `LANGUAGES`; German has no catalogue, so its pages fall back
    to the English text."""

    @pytest.fixture
    def app_config(self):  # type: ignore[no-untyped-def]
        return {"LANGUAGES": ("sv", "en", "de")}

    def test_the_switch_names_it_in_its_own_language_and_the_form_takes_it(self, client):
        page = client.get("/login", headers={"Accept-Language": "sv"}).get_data(as_text=True)
        assert 'value="de" lang="de">Deutsch</button>' in page
        assert client.post("/language", data={"language": "de", "next": "/login"}).status_code == 302
        assert '<html lang="de">' in client.get("/login").get_data(as_text=True)
        assert client.post("/language", data={"language": "fi"}).status_code == 400


def test_language_switch_ignores_external_next(client):
    response = client.post("/language", data={"language": "en", "next": "https://evil.example/"})
    assert response.location == "/login"


def test_swedish_catalogue_has_no_untranslated_or_fuzzy_entry():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    problems = [m.id for m in catalogue if m.id and (m.fuzzy or not m.string)]
    assert problems == []


# Different English msgids that may share one Swedish translation, each with the reason. Any
# other sharing fails: one Swedish word for two things is how "Printed" and "Discharged" both
# became "Utskriven" (docs/glossary.md has the terms).
SHARED_SWEDISH = {
    frozenset({"Answer", "Answers"}): "Swedish 'svar' is both singular and plural",
    frozenset({"Alerts", "alert"}): "Swedish 'larm' is both singular and plural",
    frozenset({"Symptom", "Symptoms"}): "Swedish 'symtom' is both singular and plural",
    frozenset({"As-needed medication orders", "As-needed orders"}): (
        "one thing, named at more or less length in English: the patient's as-needed orders"
    ),
    frozenset({"Assessment history", "earlier ratings"}): (
        "one thing: the page of a patient's earlier ratings, as a title and as the access log "
        "names it within a sentence"
    ),
    frozenset({"Band", "Level"}): "one thing: the band a score falls in (result page, summary)",
    frozenset({"No assessments yet.", "No ratings yet."}): (
        "one thing: an assessment is a rating (skattning) in Swedish"
    ),
    # Abbey's answers: the English form's words (absent, mild, moderate, severe), in Swedish the
    # Swedish version's, which are the words IPOS and ESAS-r answers use too (msgctxt "Abbey
    # answer: how often" / "how much"; docs/instruments.md).
    frozenset({"Absent", "Not at all"}): "one answer: the Abbey form's 'absent' is 'inte alls'",
    frozenset({"Mild", "Slightly"}): "one answer: Abbey 'mild' asked how much is 'lite'",
    frozenset({"Moderate", "Moderately"}): "one answer: Abbey 'moderate' asked how much",
    frozenset({"Moderate", "Sometimes"}): "one answer: Abbey 'moderate' asked how often",
    frozenset({"Severe", "Severely"}): "one answer: Abbey 'severe' asked how much is 'mycket'",
}


def _same_words(text: str) -> str:
    """Text compared for meaning: case and closing punctuation do not make another word."""
    return text.casefold().strip().rstrip(".:!")


def shared_translations(catalogue: Catalog) -> dict[frozenset[str], str]:
    """Sets of msgids with different words that have one Swedish translation, with it."""
    by_swedish: dict[str, set[str]] = {}
    for message in catalogue:
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        msgstr = message.string[0] if isinstance(message.string, tuple) else message.string
        by_swedish.setdefault(_same_words(msgstr), set()).add(msgid)
    shared = {}
    for swedish, msgids in by_swedish.items():
        # msgids that differ only in case or a closing full stop are the same words.
        # The first in sorted order names them (a capitalised msgid before its lower-case twin).
        distinct: dict[str, str] = {}
        for msgid in sorted(msgids):
            distinct.setdefault(_same_words(msgid), msgid)
        if len(distinct) > 1:
            shared[frozenset(distinct.values())] = swedish
    return shared


def test_no_two_msgids_share_a_swedish_translation_unless_listed():
    with CATALOGUE.open("rb") as handle:
        shared = shared_translations(read_po(handle))
    unexplained = {
        tuple(sorted(ids)): swedish for ids, swedish in shared.items() if ids not in SHARED_SWEDISH
    }
    assert unexplained == {}, "give each thing its own Swedish word, or list the pair with a reason"
    # A listed pair that no longer shares a translation is stale: remove it.
    assert set(SHARED_SWEDISH) <= set(shared)


def test_the_check_catches_printed_and_discharged_but_not_a_change_of_case():
    catalogue = Catalog(locale="sv")
    catalogue.add("Printed", "Utskriven")
    catalogue.add("Discharged", "utskriven.")  # case and a full stop do not make another word
    catalogue.add("Staff", "Personal")
    catalogue.add("staff", "personal")  # the same English words: not a collision
    catalogue.add("Nurse", "Sjuksköterska")
    assert shared_translations(catalogue) == {frozenset({"Printed", "Discharged"}): "utskriven"}


def test_every_marked_string_is_in_the_swedish_catalogue():
    with CATALOGUE.open("rb") as handle:
        # A plural entry's id is the (singular, plural) pair: each of them is known. A msgid with
        # a context (pgettext) is known in that context only.
        known = {
            (m.context, part)
            for m in read_po(handle)
            if m.id
            for part in (m.id if isinstance(m.id, tuple) else (m.id,))
        }
    method_map = [("pallapp/**.py", "python"), ("pallapp/templates/**.html", "jinja2")]
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "_l": None,
        "N_": None,
        "NC_": ((1, "c"), 2),
        "pgettext": ((1, "c"), 2),
        "lazy_pgettext": ((1, "c"), 2),
        "lazy_gettext": None,
    }
    found = set()
    for filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=keywords
    ):
        ids = message if isinstance(message, tuple) else (message,)
        found.update((filename, context, m) for m in ids if m)
    missing = sorted(
        f"{filename}: {context + ' | ' if context else ''}{message}"
        for filename, context, message in found
        if (context, message) not in known
    )
    assert missing == [], "run `flask --app pallapp translate update` and translate"


def test_catalogue_kept_per_request_follows_a_changed_locale(app):
    """The catalogue is looked up once per request (pallapp.extensions.RequestDomain), but a
    locale changed within the request (force_locale, refresh) still takes effect at once, in
    Python and in templates."""
    from flask import render_template_string
    from flask_babel import force_locale, gettext

    template = "{{ _('Nurse') }}"
    with app.test_request_context("/", headers={"Accept-Language": "sv"}):
        assert gettext("Nurse") == "Sjuksköterska"
        assert render_template_string(template) == "Sjuksköterska"
        with force_locale("en"):
            assert gettext("Nurse") == "Nurse"
            assert render_template_string(template) == "Nurse"
        assert gettext("Nurse") == "Sjuksköterska"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string(template) == "Nurse"


def test_pallapps_translation_functions_answer_as_flask_babels(app):
    """pallapp.i18n's gettext family takes a shorter path to the catalogue: the same answers as
    Flask-Babel's, in each request's language, through force_locale and refresh, with contexts,
    plural forms, variables and lazy texts resolved when shown."""
    import flask_babel
    from flask import session
    from flask_babel import force_locale, refresh

    from pallapp import i18n

    def both(function, *args, **variables):
        ours = getattr(i18n, function)(*args, **variables)
        assert ours == getattr(flask_babel, function)(*args, **variables)
        return ours

    lazy_role = i18n.lazy_gettext("Nurse")
    lazy_abbey = i18n.lazy_pgettext("Abbey answer: how much", "Absent")
    lazy_days = i18n.lazy_ngettext("%(num)d day", "%(num)d days", 3)
    assert str(lazy_role) == "Nurse"  # outside an app context: untranslated, as Flask-Babel
    with app.test_request_context("/", headers={"Accept-Language": "sv"}):
        assert both("gettext", "Nurse") == "Sjuksköterska"
        assert both("pgettext", "Abbey answer: how much", "Absent") == "Inte alls"
        assert both("ngettext", "%(num)d day", "%(num)d days", 1) == "1 dag"
        assert both("ngettext", "%(num)d day", "%(num)d days", 2) == "2 dagar"
        assert (
            both("npgettext", "no such context", "%(num)d day", "%(num)d days", 2) == "2 days"
        )
        assert both("gettext", "%(name)s and %(other)s", name="a", other="b") == "a and b"
        assert (str(lazy_role), str(lazy_abbey), str(lazy_days)) == (
            "Sjuksköterska",
            "Inte alls",
            "3 dagar",
        )
        with force_locale("en"):
            assert both("gettext", "Nurse") == str(lazy_role) == "Nurse"
            assert str(lazy_days) == "3 days"
        assert both("gettext", "Nurse") == "Sjuksköterska"
        session["language"] = "en"  # a changed choice, taken up by refresh()
        refresh()
        assert both("gettext", "Nurse") == str(lazy_role) == "Nurse"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert str(lazy_role) == "Nurse"
        assert both("pgettext", "Abbey answer: how much", "Absent") != "Inte alls"


def test_the_app_translates_through_pallapps_functions():
    """Flask-Babel's own gettext family looks up the catalogue again for every text: the app
    imports pallapp.i18n's (the same answers, tested above)."""
    import re

    slow = re.compile(
        r"^\s*from flask_babel import .*\b(gettext|ngettext|pgettext|npgettext|lazy_\w+)\b",
        re.MULTILINE,
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "pallapp").rglob("*.py"))
        if path.name != "i18n.py" and slow.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "import the gettext family from pallapp.i18n"


def test_templates_gettext_answers_as_jinjas_i18n_extension(app):
    """`_()` and `gettext()` in templates (pallapp.i18n.template_gettext, which keeps each text
    without values with its catalogue) give what Jinja's i18n extension gave with Flask-Babel's
    gettext: translated in the current language, again after a change of language within the
    request, trusted when autoescaping and not otherwise, values escaped, "%%" formatted, lazy
    texts translated in the language of the moment."""
    import flask_babel
    from flask import render_template_string
    from flask_babel import force_locale, refresh
    from jinja2 import Environment

    from pallapp import i18n

    reference = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    reference.install_gettext_callables(  # type: ignore[attr-defined]
        flask_babel.gettext, flask_babel.ngettext, newstyle=True
    )
    source = (
        "{{ _('Nurse') }}|{{ gettext('Nurse') }}|{{ _('Nurse') }}|{{ _(lazy) }}"
        "|{{ _('%(name)s and %(other)s', name=name, other='<i>') }}"
        "|{{ _('Target: %(target)d %%.', target=5) }}"
        "|{{ _('The integration sends it as: Authorization: Bearer <credential>') }}"
        "|{{ _('Target: %(target)d %%.', target=5) ~ name }}"
        "|{% autoescape false %}{{ _('%(name)s and %(other)s', name=name, other='<i>') }}"
        "{{ _('The integration sends it as: Authorization: Bearer <credential>') ~ name }}"
        "{% endautoescape %}"
        "|{% for x in [1, 2] %}{{ _('Nurse') }}{% endfor %}"
    )
    values = {"lazy": i18n.lazy_gettext("Physician"), "name": "Dr <b> & 'co'"}

    def expected() -> str:
        return reference.from_string(source).render(values)

    assert app.jinja_env.globals["_"] is i18n.template_gettext
    with app.test_request_context("/", headers={"Accept-Language": "sv"}):
        for _ in range(2):  # the second time from what the catalogue kept
            text = render_template_string(source, **values)
            assert text == expected()
            assert text.startswith("Sjuksköterska|Sjuksköterska|Sjuksköterska|Läkare|")
            assert "Dr &lt;b&gt; &amp; &#39;co&#39; " in text
            assert "Dr <b> & 'co'" in text  # not escaped where autoescaping is off
        with force_locale("en"):
            text = render_template_string(source, **values)
            assert text == expected()
            assert text.startswith("Nurse|Nurse|Nurse|Physician|")
        assert render_template_string(source, **values).startswith("Sjuksköterska|")
        from flask import session

        session["language"] = "en"
        refresh()
        assert render_template_string(source, **values) == expected()
        assert render_template_string("{{ _('Nurse') }}") == "Nurse"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string(source, **values) == expected()
