"""Retention purge: delete expired items promptly, reading only what has expired."""
