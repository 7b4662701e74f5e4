"""Benchmarks of pytest-paysim: scripts that print figures, never tests that assert on time.

``python -m benchmarks`` runs every section and prints one table (``--quick`` for a smoke run,
``--only NAME`` for some sections); see :mod:`benchmarks.run`.
"""
