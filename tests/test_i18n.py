"""The catalogs are complete and current (the CI check), and the language comes from the OS.

A new ``_()`` text without a German translation fails here: run ``python -m tests.i18n_catalogs``,
translate what it lists in ``tray_agent/locale/de/LC_MESSAGES/tray_agent.po``, run it again, commit.
"""

from __future__ import annotations

import gettext
import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo

from tests import i18n_catalogs
from tray_agent import i18n
from tray_agent.core.said import Said

LANGUAGES = i18n_catalogs.languages()


def _ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, tuple | list) else (str(message.id),)


def _strings(message: Message) -> tuple[str, ...]:
    return tuple(message.string) if isinstance(message.string, tuple | list) else (str(message.string or ""),)


def placeholders(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def messages(catalog: Catalog) -> dict[object, Message]:
    return {
        message.id if isinstance(message.id, str) else tuple(message.id): message for message in catalog if message.id
    }


def test_german_is_shipped() -> None:
    assert "de" in LANGUAGES
    assert "de" in i18n.shipped_languages()


def test_the_template_is_up_to_date_with_the_source() -> None:
    committed = set(messages(i18n_catalogs.read(i18n_catalogs.TEMPLATE)))
    fresh = set(messages(i18n_catalogs.extract()))
    assert fresh == committed, (
        f"new: {sorted(map(str, fresh - committed))}, gone: {sorted(map(str, committed - fresh))}: "
        "run python -m tests.i18n_catalogs"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated_with_the_same_placeholders(language: str) -> None:
    template = messages(i18n_catalogs.read(i18n_catalogs.TEMPLATE))
    catalog = messages(i18n_catalogs.read(i18n_catalogs.po_path(language), language))
    assert set(catalog) == set(template), "run python -m tests.i18n_catalogs"
    wrong = []
    for key, message in catalog.items():
        ids, strings = _ids(message), _strings(message)
        if message.fuzzy or not all(s.strip() for s in strings):
            wrong.append(f"untranslated: {key!r}")
            continue
        wanted = set().union(*(placeholders(i) for i in ids))
        for translated in strings:
            if placeholders(translated) != wanted:
                wrong.append(f"placeholders {sorted(placeholders(translated))} != {sorted(wanted)}: {key!r}")
    assert not wrong, f"{language}: " + "\n".join(wrong)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_the_translations(language: str) -> None:
    po = i18n_catalogs.po_path(language)
    with po.with_suffix(".mo").open("rb") as file:
        committed = {key: m.string for key, m in messages(read_mo(file)).items()}
    with io.BytesIO(i18n_catalogs.render_mo(i18n_catalogs.read(po, language))) as file:
        fresh = {key: m.string for key, m in messages(read_mo(file)).items()}
    assert committed == fresh, "the .mo is older than the .po: run python -m tests.i18n_catalogs"


@pytest.mark.parametrize("language", LANGUAGES)
def test_gettext_reads_the_shipped_catalog(language: str) -> None:
    translations = gettext.translation(i18n.DOMAIN, i18n.LOCALE_DIR, languages=[language])
    assert translations.gettext("Pause sync") != "Pause sync"


def test_the_package_data_ships_the_catalogs() -> None:
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'"locale/\*/LC_MESSAGES/\*\.mo"', pyproject)


# --- choosing the language --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "de_DE.UTF-8"}, "de"),
        ({"LANG": "de_AT.UTF-8"}, "de"),
        ({"LC_ALL": "de_CH"}, "de"),
        ({"LANGUAGE": "fr:de", "LANG": "en_US.UTF-8"}, "de"),  # the first listed one with a catalog
        ({"LANGUAGE": "en_GB:de", "LANG": "de_DE.UTF-8"}, "en"),
        ({"LC_MESSAGES": "de_DE.UTF-8", "LANG": "en_US.UTF-8"}, "de"),
        ({"LANG": "xx_YY.UTF-8"}, "en"),  # unknown: English
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({}, "en"),
    ],
)
def test_the_language_follows_the_posix_environment(environ: dict[str, str], expected: str) -> None:
    assert i18n.choose(i18n.posix_candidates(environ)) == expected


@pytest.mark.parametrize(
    ("tag", "normal"),
    [("de_DE.UTF-8", "de_DE"), ("de-at", "de_AT"), ("sr_RS@latin", "sr_RS"), ("C", ""), ("", ""), ("../x", "")],
)
def test_tags_are_normalised(tag: str, normal: str) -> None:
    assert i18n.normalise(tag) == normal


def test_macos_language_list_is_parsed() -> None:
    listed = '(\n    "de-DE",\n    en\n)\n'
    assert i18n.choose(i18n._TAG.findall(listed)) == "de"


def test_the_override_and_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(i18n.ENV_OVERRIDE, "de_DE")
    assert i18n.current_language() == "de"
    assert i18n._("Pause sync") == "Sync pausieren"
    monkeypatch.setenv(i18n.ENV_OVERRIDE, "xx")
    assert i18n.current_language() == "en"
    assert i18n._("Pause sync") == "Pause sync"
    i18n.set_language("de")
    assert i18n._("Quit") == "Beenden"
    assert i18n.ngettext("{count} problem found.", "{count} problems found.", 2) == "{count} Probleme gefunden."
    i18n.set_language(None)
    assert i18n._("Quit") == "Quit"


def test_english_is_the_msgid_itself() -> None:
    i18n.set_language("en")
    assert i18n._("no such text") == "no such text"
    assert i18n.N_("Pause sync") == "Pause sync"


def test_no_text_is_translated_inside_an_f_string() -> None:
    """Babel cannot see ``_("…")`` inside an f-string's braces (before Python 3.12 an f-string is one
    token), so such a text would never reach the catalogs: translate it into a variable first."""
    import ast

    hidden = []
    for path in sorted(Path("tray_agent").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in ("_", "ngettext")
                    and inner.args
                    and isinstance(inner.args[0], ast.Constant)
                ):
                    hidden.append(f"{path}:{inner.lineno}: {inner.args[0].value!r}")
    assert not hidden, "texts Babel cannot extract:\n" + "\n".join(hidden)


def test_every_said_template_is_a_literal_babel_can_extract() -> None:
    """``Said(template, **values)`` is the core's way to be translated later; a template made at run
    time (a variable, an f-string) never reaches the catalogs."""
    import ast

    made_at_run_time = []
    for path in sorted(Path("tray_agent").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Said":
                first = node.args[0] if node.args else None
                if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                    made_at_run_time.append(f"{path}:{node.lineno}")
    assert not made_at_run_time, "Said() without a literal template:\n" + "\n".join(made_at_run_time)


def test_the_cores_sentences_are_said_in_the_agents_language_values_and_all() -> None:
    reason = Said("Teams {teams}: reading it again before acting", teams="Busy / InAMeeting")
    line = Said("{status}: {reason}", status=Said("debouncing"), reason=reason)
    assert line == "debouncing: Teams Busy / InAMeeting: reading it again before acting"  # English as a str
    i18n.set_language("de")
    assert i18n.say(line) == "bestätigen: Teams Busy / InAMeeting: wird vor dem Handeln noch einmal gelesen"
    assert i18n.say(Said("could not read Teams: trying again in {delay:.1f} s", delay=12.34)).endswith("12.3 s")
    assert i18n.say("Genesys Cloud: cannot reach 127.0.0.1") == "Genesys Cloud: cannot reach 127.0.0.1"
    assert i18n.say(Said("no such template {x}", x=1)) == "no such template 1"  # not in the catalog: English


def test_the_orgs_genesys_labels_inside_the_cores_sentences_are_said_in_the_agents_language() -> None:
    from tests.core.org import CATALOG, genesys
    from tray_agent.core.protocol import describe_genesys

    on_queue_in_a_call = genesys("Teams call", routing="INTERACTING", out_of_office=True)
    described = describe_genesys(CATALOG, on_queue_in_a_call)
    line = Said("Genesys is {genesys} (via {source})", genesys=described, source="socket")
    assert line == "Genesys is Teams call (Busy), routing INTERACTING, Out of Office (via socket)"  # the log's
    i18n.set_language("de")
    assert i18n.say(line) == "Genesys zeigt Teams-Anruf (Besetzt), Routing INTERACTING, Out of Office (über socket)"


def test_a_translation_that_does_not_fit_its_values_gives_the_english_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "_", lambda message: "kaputt {nicht_da}")
    assert i18n.say(Said("Teams is {teams}", teams="Available")) == "Teams is Available"
