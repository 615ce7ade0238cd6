"""Voice platforms behind the compliance core.

One package per provider: its webhook verifier, event models, semantic keys and provider-side deleter.
"""
