"""LLM providers. Implementations arrive with issue Step 4; the provider names are fixed."""

BUILTIN_PROVIDERS: tuple[str, ...] = ("openai", "anthropic", "sim")
