"""Taskward ops."""
