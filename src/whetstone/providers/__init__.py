"""LLM providers: the ``Provider`` protocol (``base``), the built-ins ``openai``,
``anthropic`` and ``sim``, and the registry that names them (``registry``)."""

BUILTIN_PROVIDERS: tuple[str, ...] = ("openai", "anthropic", "sim")
