"""A smaller seeded run of the hostile benchmark (benchmarks/redaction_hostile.py): no disguise class may
leak a single value, and each value keeps its own kind."""

from __future__ import annotations

import pytest

from benchmarks.redaction_hostile import CLASSES, evaluate, generate, voicetrail_redactor

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("seed", [24, 2026])
def test_no_disguise_class_leaks(seed: int) -> None:
    cases = generate(per_kind=6, seed=seed)
    table = evaluate(cases, voicetrail_redactor())
    assert set(table) == set(CLASSES)
    assert all(row["values"] >= 6 for row in table.values())
    leaks = {cls: row["leaks"] for cls, row in table.items() if row["leaks"]}
    assert leaks == {}
    mislabelled = {cls: row["mislabelled"] for cls, row in table.items() if row["mislabelled"]}
    assert mislabelled == {}


def test_the_generator_is_seeded() -> None:
    assert generate(2, 7) == generate(2, 7)
    assert generate(2, 7) != generate(2, 8)
