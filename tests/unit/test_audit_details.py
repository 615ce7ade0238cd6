"""Audit details hold counts and codes, never caller content; the hash covers every field."""

from __future__ import annotations

import pytest

from voicetrail.domain.audit.trail import (
    GENESIS,
    AuditDetailsError,
    AuditRecord,
    validate_details,
    verify_chain,
)

pytestmark = pytest.mark.unit


def test_counts_and_codes_are_accepted() -> None:
    details = {"ssn": 2, "phone": 1, "outcome": "transferred", "source": "returning_caller", "ok": True}
    assert validate_details(details) == {**details, "ok": 1}


@pytest.mark.parametrize(
    "value",
    ["my ssn is 123", "+14155550123", "4155550123", "415-555-0123", "maria@example.com", "x" * 65, 1.5],
)
def test_anything_that_could_be_caller_content_is_refused(value: object) -> None:
    with pytest.raises(AuditDetailsError) as caught:
        validate_details({"note": value})  # type: ignore[dict-item]
    assert str(value) not in str(caught.value)


def test_keys_must_be_identifiers() -> None:
    with pytest.raises(AuditDetailsError):
        validate_details({"Caller Name": 1})


def _chain(n: int) -> list[AuditRecord]:
    records, prev, prev_exp = [], GENESIS, 0
    for seq in range(1, n + 1):
        record = AuditRecord(
            "CALL#c1", seq, "consent_given", 1000 * seq, {"n": seq}, prev, prev_exp, 5000 + seq
        )
        record = record.sealed()
        records.append(record)
        prev, prev_exp = record.hash, record.expires_at
    return records


def test_an_intact_chain_verifies() -> None:
    assert verify_chain(_chain(4), now=0) == ([], False)


def test_a_changed_field_breaks_its_own_hash() -> None:
    records = _chain(3)
    records[1] = AuditRecord(**{**records[1].__dict__, "details": {"n": 99}})
    breaks, _ = verify_chain(records, now=0)
    assert [(b.seq, b.problem) for b in breaks] == [(2, "hash_mismatch")]


def test_a_resealed_forgery_breaks_the_next_link() -> None:
    records = _chain(3)
    records[1] = AuditRecord(**{**records[1].__dict__, "kind": "consent_denied"}).sealed()
    breaks, _ = verify_chain(records, now=0)
    assert [(b.seq, b.problem) for b in breaks] == [(3, "link_broken")]


def test_a_head_removed_by_retention_is_not_a_break_but_an_early_deletion_is() -> None:
    records = _chain(3)[1:]
    assert verify_chain(records, now=6000) == ([], True)  # record 1 expired at 5001
    breaks, _ = verify_chain(records, now=4000)
    assert [b.problem for b in breaks] == ["missing_head"]
    breaks, _ = verify_chain([_chain(3)[0], _chain(3)[2]], now=0)
    assert [b.problem for b in breaks] == ["missing_records"]
