"""Taskward's benchmark harness: ``python -m bench [SUITE ...]``.

Figures are printed and written to ``bench/results/latest.json``; they are never
asserted in tests. Each suite runs on a throwaway database per dialect (a SQLite
file in a temporary directory, a database created on the PostgreSQL server and
dropped afterwards), with worker processes started as real subprocesses.
"""
