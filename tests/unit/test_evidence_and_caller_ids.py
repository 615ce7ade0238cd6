"""Offline verification catches any change to any hashed field; caller ids are E.164, SIP or refused;
the pepper fingerprint is written once per process."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.memory import MemoryPepperFingerprints
from voicetrail.domain.audit.trail import GENESIS, AuditRecord
from voicetrail.domain.callers import CallerHasher, caller_id
from voicetrail.errors import InvalidCallerIdError
from voicetrail_cli.ops.evidence import verify_records

pytestmark = pytest.mark.unit
NOW = 1_790_000_000.0

details = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
    st.integers(0, 10_000) | st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True),
    max_size=4,
)


def chain(all_details: list[dict[str, int | str]]) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    for n, d in enumerate(all_details, 1):
        prev = records[-1] if records else None
        records.append(
            AuditRecord(
                pk="CALL#c-1",
                seq=n,
                kind="pii_redacted",
                at_ms=int(NOW * 1000) + n,
                details=d,
                prev_hash=prev.hash if prev else GENESIS,
                prev_expires_at=prev.expires_at if prev else 0,
                expires_at=int(NOW) + 86_400 * 2190 + n,
            ).sealed()
        )
    return records


@settings(max_examples=60, deadline=None)
@given(
    st.lists(details, min_size=1, max_size=5),
    st.data(),
)
def test_changing_any_hashed_field_of_any_record_is_detected(
    all_details: list[dict[str, int | str]], data: st.DataObject
) -> None:
    rows = [r.as_dict() for r in chain(all_details)]
    assert verify_records(rows, now=NOW, whole_chains=True)["ok"]
    victim = data.draw(st.integers(0, len(rows) - 1))
    field = data.draw(
        st.sampled_from(
            ["seq", "kind", "at_ms", "details", "prev_hash", "prev_expires_at", "expires_at", "hash"]
        )
    )
    row = dict(rows[victim])
    if field == "kind":
        row[field] = "transfer"
    elif field in ("prev_hash", "hash"):
        row[field] = ("1" if row[field][0] != "1" else "2") + row[field][1:]
    elif field == "details":
        row[field] = {**row[field], "zz_added": 1}
    else:
        row[field] = int(row[field]) + 1
    rows[victim] = row
    assert not verify_records(rows, now=NOW, whole_chains=True)["ok"]


def test_a_deleted_record_is_detected_in_a_whole_chain() -> None:
    rows = [r.as_dict() for r in chain([{"n": 1}, {"n": 2}, {"n": 3}])]
    assert verify_records(rows[:1] + rows[2:], now=NOW, whole_chains=True)["breaks"] == [
        {"chain": "c-1", "seq": 3, "problem": "missing_records", "record": "CALL#c-1/3"}
    ]
    head_cut = verify_records(rows[1:], now=NOW, whole_chains=False)  # an export --since
    assert head_cut["ok"] and head_cut["notes"]
    assert not verify_records(rows[1:], now=NOW, whole_chains=True)["ok"]  # a bundle holds whole chains


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_caller_id_is_e164_sip_or_refused(text: str) -> None:
    try:
        value = caller_id(text)
    except InvalidCallerIdError as exc:
        assert str(exc).startswith(("not a phone number", "not a valid phone number"))
        return
    assert value.startswith(("+", "sip:", "sips:"))


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("(415) 555-0123", "+14155550123"),
        ("+44 20 7946 0018", "+442079460018"),
        ("SIP:Ana@Example.com", "sip:ana@example.com"),
    ],
)
def test_the_forms_people_type_hash_the_same(typed: str, canonical: str) -> None:
    assert caller_id(typed) == canonical
    hasher = CallerHasher("p")
    assert hasher.hash(typed) == hasher.hash(canonical)  # what the webhook stored is found


def test_the_fingerprint_is_keyed_and_recorded_once() -> None:
    one, other = CallerHasher("pepper-one"), CallerHasher("pepper-two")
    assert (
        one.fingerprint() != other.fingerprint()
        and one.fingerprint() == CallerHasher("pepper-one").fingerprint()
    )
    assert "pepper-one" not in one.fingerprint()
    store = MemoryPepperFingerprints()
    for _ in range(3):
        store.record(one.fingerprint())
    assert store.writes == 1 and store.known() == {one.fingerprint()}


def test_records_are_frozen() -> None:
    record = chain([{"n": 1}])[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.seq = 2  # type: ignore[misc]


@settings(max_examples=300, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=8, max_size=13),
    spacer=st.sampled_from(["", " "]),
)
def test_the_e164_fast_path_hashes_exactly_as_phonenumbers_would(digits: str, spacer: str) -> None:
    """normalize_phone skips phonenumbers for NANP E.164 text: it must give what phonenumbers gives, or
    a caller's hashes would stop linking (erasure, consent) the day the fast path changed."""
    import phonenumbers

    from voicetrail.domain.callers import normalize_phone

    for text in (f"+1{digits[:10]}", f"+{digits}", f"+1{spacer}{digits[:10]}"):
        try:
            parsed = phonenumbers.parse(text, "US")
            expected = (
                phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                if phonenumbers.is_possible_number(parsed)
                else text.lower()
            )
        except phonenumbers.NumberParseException:
            expected = text.lower()
        assert normalize_phone(text) == expected
