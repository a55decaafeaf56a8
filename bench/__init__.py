"""Benchmarks: Hookline against a bare sender (the ceiling) and a Celery peer."""
