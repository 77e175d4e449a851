"""Retention: finished jobs and outbox events deleted after their age, by the leader."""

from taskward.core.retention.plugin import Retention
from taskward.core.retention.policy import PRUNABLE, RetentionPolicy
from taskward.core.retention.pruner import ArchiveStep, Pruned, Pruner

__all__ = ["PRUNABLE", "ArchiveStep", "Pruned", "Pruner", "Retention", "RetentionPolicy"]
