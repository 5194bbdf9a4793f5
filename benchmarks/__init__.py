"""Benchmarks: measured here, never in timed tests (DESIGN.md, "Quality budgets")."""
