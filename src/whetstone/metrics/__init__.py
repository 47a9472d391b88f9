"""Scoring: the ``Metric`` protocol, the built-in metrics and their registry."""
