"""Sentences for people that a later layer can say in the agent's language.

The core sits below ``i18n`` (it stays pure and testable in English), so it cannot translate. A
:class:`Said` is the English text itself (a ``str``: it compares, logs and persists as English) that
also keeps its template and values. The tray and the window hand it to :func:`tray_agent.i18n.say`,
which looks the template up in the catalog and fills in the values, themselves said again where they
are ``Said`` too. Babel extracts the templates: ``Said`` is one of its keywords (tests/i18n_catalogs.py),
so the template must be a string literal, never an f-string (tests/test_i18n.py checks).
"""

from __future__ import annotations


class Said(str):
    """``Said("Teams {teams}: nothing to change", teams="Available")`` is the str
    ``"Teams Available: nothing to change"``, with ``template`` and ``values`` kept."""

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, /, **values: object) -> Said:
        said = super().__new__(cls, template.format(**values))
        said.template = template
        said.values = values
        return said

    @classmethod
    def kept(cls, template: str, values: dict[str, object]) -> Said:
        """A sentence made before and read back (the activity file): its template reached the catalog
        where it was first said."""
        return cls(template, **values)


class Named(str):
    """A name a service gives in several languages, such as a Genesys presence with ``languageLabels``.

    ``Named("Meeting", (("de", "Besprechung"),))`` is the str ``"Meeting"`` (the name in the org's
    default language, for logs and tests); :meth:`in_language` is the one for the agent. As a value of a
    :class:`Said`, :func:`tray_agent.i18n.say` puts it in the agent's language.
    """

    names: tuple[tuple[str, str], ...]  # (locale key as the service writes it, name)

    def __new__(cls, text: str, names: tuple[tuple[str, str], ...] = ()) -> Named:
        named = super().__new__(cls, text)
        named.names = names
        return named

    def in_language(self, language: str) -> str:
        return pick_in_language(self.names, language) or str(self)


def locale_key(tag: str) -> str:
    """``"de-AT"``, ``"DE_at"`` → ``"de_at"``: locale keys compare case-insensitively, ``-`` and ``_`` alike."""
    return tag.strip().replace("-", "_").lower()


def base_language(key: str) -> str:
    """``"pt_br"`` → ``"pt"`` (of a key from :func:`locale_key`)."""
    return key.split("_", 1)[0]


def pick_in_language(names: tuple[tuple[str, str], ...], language: str) -> str:
    """The name for an agent language (``"de"``, ``"de_DE"``, ``"de-AT"``, ``"pt-BR"``), or "" for none.

    In order: the exact locale; else one in the same base language (a bare key such as ``de`` first,
    then the others by key, so the choice does not depend on the order the service sent them in).
    """
    usable = [(locale_key(key), text) for key, text in names if text]
    wanted = locale_key(language)
    if not wanted:
        return ""
    exact = next((text for key, text in usable if key == wanted), "")
    if exact:
        return exact
    base = base_language(wanted)
    same_language = sorted((key != base, key, text) for key, text in usable if base_language(key) == base)
    return same_language[0][2] if same_language else ""
