"""Retention: data classes and their expiry, and the purge that deletes what expired."""
