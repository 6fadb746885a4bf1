"""The sync protocol, pure: events in, effects out, every rule in one place (no I/O, no clock of its own)."""
