"""One module per CLI command. Each exposes ``register(subparsers)`` which adds its parser and sets
``handler`` (a function taking the parsed args and returning an exit code)."""
