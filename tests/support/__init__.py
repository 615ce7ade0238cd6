"""In-memory twins of the storage adapters and live features, for tests and benchmarks (never shipped)."""
