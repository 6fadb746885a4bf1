"""The imperative shell: an asyncio engine that performs the core's effects and feeds back their results."""
