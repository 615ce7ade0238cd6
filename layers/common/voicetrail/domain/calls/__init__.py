"""Calls and their events: the stored event, the call ledger (summaries, transitions), and their ports."""
