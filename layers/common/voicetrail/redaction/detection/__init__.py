"""Detectors of the redaction engine, one module per family; `pipeline` runs them all and merges.

Where a new detector goes: a new module here returning `Span`s (offsets into the text it was given), its
word lists in `voicetrail.redaction.lexicon`, and one line in `pipeline.detect`.
"""
