"""Retell AI: webhook verifier, event models, semantic keys and the call deleter."""
