"""The agent's words in the agent's language: stdlib ``gettext`` over the package's own catalogs.

Every user-facing text goes through :func:`_` (or :func:`ngettext`), with named placeholders filled in
after translation (``_("Paused until {time}").format(time=...)``), never glued from translated pieces.
A text kept in a module-level constant is marked with :func:`N_` (so extraction finds it) and
translated where it is shown: ``_(HEADLINES[status])``. Log messages stay English (the helpdesk reads them).

The language: :func:`set_language` (tests), else ``TRAY_AGENT_LANGUAGE``, else the OS's (Windows: the
user's UI language; macOS: ``AppleLanguages``; elsewhere ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``,
``LANG``). A language without a catalog in ``tray_agent/locale/`` falls back to English, the msgids.
The catalogs are written by ``python -m tests.i18n_catalogs`` (Babel); the runtime needs only the stdlib.
"""

from __future__ import annotations

import functools
import gettext
import locale
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from tray_agent.core.said import Named, Said

DOMAIN = "tray_agent"
LOCALE_DIR = Path(__file__).parent / "locale"
ENV_OVERRIDE = "TRAY_AGENT_LANGUAGE"
ENGLISH = "en"
_POSIX_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*")

_override: str | None = None


def N_(message: str) -> str:
    """Marks ``message`` for extraction without translating it (translate it with :func:`_` where shown)."""
    return message


def _(message: str) -> str:
    """``message`` in the current language (itself when there is no translation)."""
    return _translations(current_language()).gettext(message)


def say(text: str) -> str:
    """``text`` in the agent's language where it is a :class:`~tray_agent.core.said.Said` (its template
    looked up, its values said in turn); any other text as it is. A translation whose placeholders do
    not fit gives the English text rather than failing."""
    if not isinstance(text, Said):
        return text
    values = {name: _said_value(value) for name, value in text.values.items()}
    try:
        return _(text.template).format(**values)
    except (KeyError, IndexError, ValueError):
        return str(text)


def _said_value(value: object) -> object:
    """A value inside a sentence: a name the service gives in several languages in the agent's, a
    sentence said in turn, anything else as it is."""
    if isinstance(value, Named):
        return value.in_language(current_language())
    return say(value) if isinstance(value, str) else value


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language."""
    return _translations(current_language()).ngettext(singular, plural, n)


def set_language(language: str | None) -> None:
    """Use ``language`` (e.g. ``"de"``) from now on; ``None`` goes back to the environment and the OS."""
    global _override
    _override = language


def current_language() -> str:
    """The shipped language in use: the override, ``TRAY_AGENT_LANGUAGE``, or the OS's; else English."""
    if _override is not None:
        return choose([_override])
    from_env = os.environ.get(ENV_OVERRIDE, "")
    if from_env:
        return choose([from_env])
    return _os_language()


def shipped_languages() -> frozenset[str]:
    """English and every language with a compiled catalog in the package."""
    found = {path.parents[1].name for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return frozenset({ENGLISH, *found})


def normalise(tag: str) -> str:
    """``de_DE.UTF-8`` → ``de_DE``; ``de-AT`` → ``de_AT``; ``C``/``POSIX``/garbage → ``""``."""
    tag = tag.strip().split(".", 1)[0].split("@", 1)[0].replace("-", "_")
    if tag.upper() in ("C", "POSIX") or not _TAG.fullmatch(tag):
        return ""
    language, _sep, region = tag.partition("_")
    return f"{language.lower()}_{region.upper()}" if region else language.lower()


def choose(candidates: Iterable[str], shipped: frozenset[str] | None = None) -> str:
    """The first candidate (``de_DE``, or its language ``de``) that has a catalog; English otherwise."""
    shipped = shipped_languages() if shipped is None else shipped
    for candidate in candidates:
        tag = normalise(candidate)
        if not tag:
            continue
        for option in (tag, tag.split("_", 1)[0]):
            if option in shipped:
                return option
    return ENGLISH


def posix_candidates(environ: Mapping[str, str]) -> list[str]:
    """What gettext itself would look at: ``LANGUAGE`` (a colon list), then ``LC_ALL``, ``LC_MESSAGES``, ``LANG``."""
    candidates: list[str] = []
    for variable in _POSIX_VARIABLES:
        value = environ.get(variable, "")
        if value:
            candidates.extend(value.split(":") if variable == "LANGUAGE" else [value])
    return candidates


@functools.cache
def _os_language() -> str:
    """The OS's language, asked once per process (macOS: a subprocess)."""
    return choose([*_os_candidates(), *_locale_candidates()])


def _os_candidates() -> list[str]:
    if sys.platform == "win32":
        return _windows_candidates()
    if sys.platform == "darwin":
        return _mac_candidates() + posix_candidates(os.environ)
    return posix_candidates(os.environ)


def _windows_candidates() -> list[str]:
    if sys.platform != "win32":  # for mypy on the other platforms: ctypes.windll exists only here
        return []
    import ctypes

    try:
        langid = int(ctypes.windll.kernel32.GetUserDefaultUILanguage())
    except (AttributeError, OSError):
        return []
    name = locale.windows_locale.get(langid, "")
    return [name] if name else []


def _mac_candidates() -> list[str]:
    """``defaults read -g AppleLanguages``: the user's preferred languages, e.g. ``("de-DE", en)``."""
    try:
        listed = subprocess.run(
            ["/usr/bin/defaults", "read", "-g", "AppleLanguages"],
            check=True,
            capture_output=True,
            text=True,
            timeout=3,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return _TAG.findall(listed)


def _locale_candidates() -> list[str]:
    try:
        language = locale.getlocale(locale.LC_MESSAGES if hasattr(locale, "LC_MESSAGES") else locale.LC_CTYPE)[0]
    except ValueError:
        return []
    return [language] if language else []


@functools.cache
def _translations(language: str) -> gettext.NullTranslations:
    if language == ENGLISH:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)
