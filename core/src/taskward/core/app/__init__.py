"""The application object: the composition root that builds the plugins, the store and workers."""

from taskward.core.app.policy import make_policy
from taskward.core.app.taskward import EnqueueHook, Taskward

__all__ = ["EnqueueHook", "Taskward", "make_policy"]
