"""The one error of the config layer: a setting that cannot be used."""

from __future__ import annotations


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it and says what is expected."""
