"""Metrics collected in memory, for tests and benchmarks."""

from __future__ import annotations


class MemoryRecorder:
    """Collects metrics in memory (tests, local runs)."""

    def __init__(self) -> None:
        self.records: list[tuple[str, float, dict[str, str]]] = []

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:
        self.records.append((name, value, dimensions))

    def value(self, name: str, value: float, unit: str = "None", **dimensions: str) -> None:
        self.records.append((name, value, dimensions))

    def total(self, name: str, **dimensions: str) -> float:
        return sum(
            v for n, v, d in self.records if n == name and all(d.get(k) == x for k, x in dimensions.items())
        )
