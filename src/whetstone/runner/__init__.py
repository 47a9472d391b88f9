"""Owns the job state machine: claims, leases, steps, checkpoints."""

from whetstone.runner.runner import JobRunner

__all__ = ["JobRunner"]
