"""Taskward archiver."""
