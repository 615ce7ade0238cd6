"""Erasure on request: everything stored about one caller, here and at the providers."""
