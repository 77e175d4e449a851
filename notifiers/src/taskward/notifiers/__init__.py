"""Taskward notifiers."""
