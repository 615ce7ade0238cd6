"""Composition roots: each function's services built from its settings, adapters plugged into ports."""
