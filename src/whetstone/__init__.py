"""Whetstone: self-hosted prompt optimization with every step streamed live."""

__version__ = "0.1.0"
