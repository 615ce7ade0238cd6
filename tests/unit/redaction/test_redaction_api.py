"""The public contract of voicetrail.redaction, policies, turns, log scrubbing and invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicetrail.redaction import (
    DEFAULT_PLACEHOLDERS,
    FAILSAFE_PLACEHOLDER,
    Finding,
    Redaction,
    RedactionPolicy,
    Turn,
    redact,
    redact_log_value,
    redact_turns,
)

MAX_PLACEHOLDER = max(len(p) for p in DEFAULT_PLACEHOLDERS.values())


def test_contract_example() -> None:
    r = redact("my ssn is 123-45-6789")
    assert r.text == "my ssn is [SSN]"
    assert r.findings == (Finding(kind="ssn", start=10, end=21),)
    assert r.counts() == {"ssn": 1}


def test_results_are_immutable_and_hold_no_values() -> None:
    r = redact("call me at 415-555-0123")
    with pytest.raises(AttributeError):
        r.text = "x"
    with pytest.raises(AttributeError):
        r.findings[0].kind = "x"
    assert "415" not in repr(r)
    assert hash(r.findings[0]) == hash(Finding("phone", 11, 23))


def test_counts_per_kind() -> None:
    r = redact("card 4111 1111 1111 1111, cvv 123, my ssn is 123-45-6789 and my other ssn is 987-65-4321")
    assert r.counts() == {"card": 1, "cvv": 1, "ssn": 2}


def test_text_without_pii_is_returned_unchanged() -> None:
    text = "Thanks, see you on Tuesday at 3 pm. Press 1 to confirm."
    r = redact(text)
    assert r.text is text or r.text == text
    assert r.findings == ()


def test_pci_only_policy_keeps_other_kinds() -> None:
    policy = RedactionPolicy.from_env_value("ssn,card,cvv")
    text = "my card is 4111 1111 1111 1111, cvv 123, call 415-555-0123, email a@b.com"
    r = redact(text, policy=policy)
    assert r.text == "my card is [CARD], cvv [CVV], call 415-555-0123, email a@b.com"


def test_policy_groups_and_errors() -> None:
    assert RedactionPolicy.from_env_value(" pci , ssn ").kinds == frozenset({"card", "cvv", "expiry", "ssn"})
    assert "mrn" in RedactionPolicy.from_env_value("ids").kinds
    with pytest.raises(ValueError, match="unknown redaction kind"):
        RedactionPolicy.from_env_value("ssn,credit_card")
    with pytest.raises(ValueError):
        RedactionPolicy.from_env_value(" , ")
    with pytest.raises(ValueError):
        RedactionPolicy(placeholders={"ssn": "x" * 100})


def test_custom_placeholders() -> None:
    policy = RedactionPolicy(placeholders={"ssn": "***"})
    assert redact("ssn 123-45-6789", policy=policy).text == "ssn ***"
    assert policy.placeholder("card") == "[CARD]"


def test_turns_split_a_number_and_keep_offsets_per_turn() -> None:
    turns = [
        Turn(role="user", text="my card is four one one one"),
        Turn(role="user", text="one one one one, one one one one"),
        Turn(role="user", text="one one one one and that's it"),
    ]
    results = redact_turns(turns)
    assert [r.text for r in results] == ["my card is [CARD]", "[CARD]", "[CARD] and that's it"]
    for turn, result in zip(turns, results, strict=True):
        for f in result.findings:
            assert f.kind == "card"
            assert 0 <= f.start < f.end <= len(turn.text)


def test_numbers_do_not_join_across_speakers() -> None:
    turns = [Turn("assistant", "press 1"), Turn("user", "2 3 4 5 6 7 8")]
    results = redact_turns(turns)
    assert results[0].text == "press 1"


def test_redact_turns_empty() -> None:
    assert redact_turns([]) == []


def test_redact_log_value_walks_containers() -> None:
    record = {
        "message": "caller said ssn 123-45-6789",
        "level": "INFO",
        "timestamp": "2025-01-01 12:00:00,123+0000",
        "function_request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "extra": {"items": ["email a@b.com", ("call 415-555-0123",)], "count": 3, "ok": True},
    }
    out = redact_log_value(record)
    assert out == {
        "message": "caller said ssn [SSN]",
        "level": "INFO",
        "timestamp": "2025-01-01 12:00:00,123+0000",
        "function_request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "extra": {"items": ["email [EMAIL]", ("call [PHONE]",)], "count": 3, "ok": True},
    }


def test_failsafe_withholds_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    import voicetrail.redaction as module

    def boom(*args: object, **kwargs: object) -> list[tuple[int, int, str, int]]:
        raise RuntimeError("bug")

    monkeypatch.setattr(module, "detect", boom)
    r = redact("my ssn is 123-45-6789")
    assert r.text == FAILSAFE_PLACEHOLDER
    assert [r2.text for r2 in redact_turns([Turn("user", "x 1")])] == [FAILSAFE_PLACEHOLDER]


def test_redaction_is_idempotent_on_examples() -> None:
    text = "my name is John Smith, ssn 123-45-6789, email john dot smith at gmail dot com"
    once = redact(text)
    assert redact(once.text).text == once.text


# --------------------------------------------------------------------------- properties
_voice = st.lists(
    st.sampled_from(
        [
            "one",
            "two",
            "oh",
            "double",
            "five",
            "twenty",
            "hundred",
            "uh",
            "dash",
            "dot",
            "at",
            "my",
            "card",
            "ssn",
            "is",
            "name",
            "John",
            "1",
            "23",
            "456",
            "7890",
            "-",
            ",",
            ".",
            "@",
            "gmail",
            "com",
            "street",
            "\n",
            " ",
        ]
    ),
    max_size=60,
).map(" ".join)


def _check_invariants(text: str, r: Redaction) -> None:
    assert isinstance(r.text, str)
    assert r.text != FAILSAFE_PLACEHOLDER or text in ("", FAILSAFE_PLACEHOLDER)  # no internal error hit
    last_end = 0
    for f in r.findings:
        assert 0 <= f.start < f.end <= len(text)
        assert f.start >= last_end  # sorted, non-overlapping
        last_end = f.end
    growth = sum(MAX_PLACEHOLDER - (f.end - f.start) for f in r.findings)
    assert len(r.text) <= len(text) + max(0, growth)
    assert len(r.findings) <= len(text)


@settings(max_examples=300)
@given(st.text(max_size=400))
def test_never_raises_and_offsets_are_valid_on_any_text(text: str) -> None:
    r = redact(text)
    _check_invariants(text, r)
    if not r.findings:
        assert r.text == text


@settings(max_examples=500)
@given(_voice)
def test_invariants_on_voice_like_text(text: str) -> None:
    r = redact(text)
    _check_invariants(text, r)
    # everything outside findings is preserved verbatim and in order
    pos = 0
    rebuilt = []
    for f in r.findings:
        rebuilt.append(text[pos : f.start])
        rebuilt.append(DEFAULT_PLACEHOLDERS[f.kind])
        pos = f.end
    rebuilt.append(text[pos:])
    assert "".join(rebuilt) == r.text


@settings(max_examples=100)
@given(st.lists(st.tuples(st.sampled_from(["user", "assistant"]), _voice), max_size=6))
def test_turn_findings_stay_inside_their_turn(pairs: list[tuple[str, str]]) -> None:
    turns = [Turn(role, text) for role, text in pairs]
    results = redact_turns(turns)
    assert len(results) == len(turns)
    for turn, result in zip(turns, results, strict=True):
        _check_invariants(turn.text, result)


@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=40),
        lambda c: st.lists(c) | st.dictionaries(st.text(max_size=5), c),
        max_leaves=20,
    )
)
def test_redact_log_value_preserves_shape(value: object) -> None:
    out = redact_log_value(value)
    assert type(out) is type(value)


def test_huge_input_is_bounded() -> None:
    text = "my card is 4111 1111 1111 1111. " * 2000 + "\x00\x07 ünïcödé İ ß " * 100
    r = redact(text)
    assert len(r.text) < len(text)
    assert r.counts()["card"] == 2000


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"message_type": "hang", "outcome": "stored"}, {"message_type": "hang", "outcome": "stored"}),
        ({"message_type": "Hang Li"}, {"message_type": "[NAME]"}),  # not an identifier: redacted
        ({"caller": "hang"}, {"caller": "[NAME]"}),  # not a structural key: redacted
        ({"message_type": "ssn 123-45-6789"}, {"message_type": "ssn [SSN]"}),
    ],
)
def test_log_records_keep_closed_set_identifiers(record: dict[str, str], expected: dict[str, str]) -> None:
    assert redact_log_value(record) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The card is four one one one, one one on",  # a partial transcript cut inside the number
        "The card is four one one one one one",
        "my card is 4111 11",
    ],
)
def test_no_card_digit_survives_a_partial_card_number(text: str) -> None:
    out = redact(text).text
    assert "[CARD]" in out and not any(ch.isdigit() for ch in out)
    assert "one one" not in out and "four" not in out
