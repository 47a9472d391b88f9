"""Scoring. Metric implementations arrive with issue Step 4; the names are fixed."""

BUILTIN_METRICS: tuple[str, ...] = (
    "exact_match",
    "contains",
    "regex",
    "json_match",
    "token_f1",
    "semantic_similarity",
    "g_eval",
)
