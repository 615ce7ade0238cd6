"""Word lists of the detectors, one module per family: plain frozensets and dicts, cheap to build."""
