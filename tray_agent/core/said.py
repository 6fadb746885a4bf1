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
