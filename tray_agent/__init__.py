"""Teams → Genesys Cloud presence tray agent."""

__version__ = "0.1.0"
