"""Taskward's benchmark harness: ``python -m bench [SUITE ...]``.

Figures are printed and written to ``bench/results/latest.json``; they are never
asserted in tests. Each suite runs on a throwaway database per dialect (a SQLite
file in a temporary directory, a database created on the PostgreSQL server and
dropped afterwards), with worker processes started as real subprocesses.

A suite is a module with ``run(dbs: Databases)`` listed in ``__main__.SUITES``;
it takes fresh databases from ``dbs.fresh()`` and reports each figure with
``bench.results.record(name, dialect, value, unit)``. ``python -m bench throughput
pickup --dialect postgresql`` runs a subset and merges its records into the file.
"""
