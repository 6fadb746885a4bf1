"""Writes the gettext catalogs with Babel: the only thing that does (``tests/test_i18n.py`` checks them).

    .venv/bin/python -m tests.i18n_catalogs

1. extracts every ``_()``/``N_()``/``ngettext()`` text of the agent (``babel.cfg``) to
   ``tray_agent/locale/tray_agent.pot``;
2. updates each shipped ``tray_agent/locale/<lang>/LC_MESSAGES/tray_agent.po`` from it (new texts come in
   untranslated, never guessed: translate them in the ``.po``; removed ones are dropped);
3. compiles each ``.po`` to its ``.mo`` (what the agent reads, with the standard library's gettext).

It then lists what is still untranslated and exits 1 if anything is. Commit the ``.pot``, ``.po`` and ``.mo``.
A new language: ``mkdir -p tray_agent/locale/<lang>/LC_MESSAGES`` and run this.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

REPO = Path(__file__).resolve().parents[1]
LOCALE = REPO / "tray_agent" / "locale"
DOMAIN = "tray_agent"
TEMPLATE = LOCALE / f"{DOMAIN}.pot"
PROJECT = "tray-agent"


# Babel's keywords, and the core's Said("template", **values): the core cannot translate (it is below
# i18n), so the tray and the window say its sentences through tray_agent.i18n.say.
KEYWORDS = {**DEFAULT_KEYWORDS, "Said": None}


def extract() -> Catalog:
    """A fresh template from the source, as ``babel.cfg`` says (locations without line numbers)."""
    with (REPO / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    template = Catalog(project=PROJECT, domain=DOMAIN, fuzzy=False)
    found = extract_from_dir(REPO, method_map, options_map, keywords=KEYWORDS)
    for filename, _lineno, message, comments, context in found:
        template.add(message, None, [(filename, 0)], auto_comments=comments, context=context)
    return template


def languages() -> list[str]:
    return sorted(path.name for path in LOCALE.iterdir() if (path / "LC_MESSAGES").is_dir())


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def render_po(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=120, ignore_obsolete=True, include_lineno=False, sort_output=True)
    return buffer.getvalue()


def render_mo(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=language, domain=DOMAIN)


def _without_dates(text: bytes) -> bytes:
    """The header's creation/revision dates change on every run: compared without them."""
    return b"\n".join(line for line in text.split(b"\n") if b"-Date: " not in line)


def _write_if_changed(path: Path, content: bytes) -> None:
    if not path.exists() or _without_dates(path.read_bytes()) != _without_dates(content):
        path.write_bytes(content)
        print(f"wrote {path.relative_to(REPO)}")


def untranslated(catalog: Catalog) -> list[str]:
    return [
        str(m.id)
        for m in catalog
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))
    ]


def _new_catalog(language: str) -> Catalog:
    return Catalog(
        locale=language,
        domain=DOMAIN,
        project=PROJECT,
        version="",
        header_comment=f"# {language} translations of the tray agent's texts (python -m tests.i18n_catalogs).\n#",
        copyright_holder="",
        fuzzy=False,
    )


def main() -> int:
    template = extract()
    _write_if_changed(TEMPLATE, render_po(template))
    missing = 0
    for language in languages():
        path = po_path(language)
        catalog = read(path, language) if path.exists() else _new_catalog(language)
        catalog.update(template, no_fuzzy_matching=True)
        _write_if_changed(path, render_po(catalog))
        catalog = read(path, language)
        _write_if_changed(path.with_suffix(".mo"), render_mo(catalog))
        for message in untranslated(catalog):
            missing += 1
            print(f"{language}: untranslated: {message!r}")
    print(f"{len(template)} texts, {len(languages())} language(s), {missing} untranslated")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
