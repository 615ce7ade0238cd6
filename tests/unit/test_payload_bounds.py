"""voicetrail.transport.payload: the bounds every sender's JSON is parsed within, the one iterative
walk, and the key bounds that keep every key under DynamoDB's limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicetrail.domain.callers import CallerHasher
from voicetrail.domain.calls.ports import StoredEvent
from voicetrail.domain.identity import MAX_KEY_PART_BYTES, key_part
from voicetrail.domain.retention.classes import RetentionClass
from voicetrail.domain.tree import Branch, Leaf, rebuild
from voicetrail.errors import BadRequestError, to_http_error
from voicetrail.providers.vapi.idempotency import semantic_key
from voicetrail.providers.vapi.messages import parse_envelope
from voicetrail.providers.vapi.sanitize import MessageSanitizer
from voicetrail.storage.dynamo import to_item
from voicetrail.storage.table import MAX_EVENT_KEY_BYTES, call_pk, event_sk, tool_sk
from voicetrail.transport.payload import (
    MAX_DEPTH,
    bounded_attributes,
    depth,
    loads,
)

pytestmark = pytest.mark.unit


def nested_text(levels: int, opener: str = '{"a":', closer: str = "}") -> str:
    return opener * levels + "1" + closer * levels


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"cost": NaN}', "NaN and Infinity"),
        ('{"cost": Infinity}', "NaN and Infinity"),
        ('{"cost": -Infinity}', "NaN and Infinity"),
        ('{"cost": 1e400}', "out of range"),
        ('{"cost": -1e309}', "out of range"),
        (nested_text(MAX_DEPTH + 1), "nested deeper"),
        (nested_text(MAX_DEPTH + 1, "[", "]"), "nested deeper"),
        (nested_text(100_000), "not valid JSON"),  # past the C parser's own recursion limit
        ('{"n": ' + "9" * 5000 + "}", "not valid JSON"),  # past Python's int conversion limit
        ('{"a": 1', "not valid JSON"),
    ],
)
def test_out_of_bounds_json_is_a_readable_400(text: str, reason: str) -> None:
    with pytest.raises(BadRequestError) as raised:
        loads(text)
    answer = to_http_error(raised.value)
    assert answer.status == 400 and reason in answer.body["message"]


def test_nesting_up_to_the_limit_is_accepted() -> None:
    assert depth(loads(nested_text(MAX_DEPTH))) == MAX_DEPTH


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"t": "a\\ud800b"}', {"t": "a\ufffdb"}),
        ('{"t": "\\udfff"}', {"t": "\ufffd"}),
        ('{"\\ud800": ["x\\udc00"]}', {"\ufffd": ["x\ufffd"]}),
        ('{"t": "\\ud83d\\ude00"}', {"t": "\U0001f600"}),  # a real pair is one character, kept
        ('{"t": "\\\\ud800"}', {"t": "\\ud800"}),  # an escaped backslash: plain text, kept
    ],
)
def test_lone_surrogates_become_replacement_characters_at_parse(text: str, expected: Any) -> None:
    document = loads(text)
    assert document == expected
    json.dumps(document, ensure_ascii=False).encode("utf-8")  # every encoder can write it now


json_trees = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
    max_leaves=40,
)


@settings(max_examples=200)
@given(json_trees)
def test_rebuild_with_an_identity_step_copies_any_tree(tree: Any) -> None:
    def step(node: Any, _: None) -> Leaf | Branch[None]:
        if isinstance(node, dict):
            return Branch({}, [(k, v, None) for k, v in node.items()])
        if isinstance(node, list):
            return Branch([], [(i, v, None) for i, v in enumerate(node)])
        return Leaf(node)

    copy = rebuild(tree, None, step)
    assert copy == tree and json.dumps(copy) == json.dumps(tree)  # same values, same key order


def test_the_sanitiser_walks_any_depth_without_recursion() -> None:
    # Built directly (not parsed): the walk itself must not depend on the parse bound.
    deep: Any = "call me at 415 555 0123"
    for _ in range(20_000):
        deep = {"metadata": [deep]}
    sanitized = MessageSanitizer(CallerHasher("pepper")).sanitize({"type": "hang", "metadata": deep})
    node = sanitized.body["metadata"]
    for _ in range(20_000):
        node = node["metadata"][0] if isinstance(node, dict) else node[0]
    assert "555 0123" not in str(node)


# ---- keys ----------------------------------------------------------------------------------------

BYTES = {"ascii": "c", "two-byte": "\u00e9", "four-byte": "\U0001f600"}


@pytest.mark.parametrize("width", list(BYTES))
@pytest.mark.parametrize("length", [1, 63, 64, 65, 256, 1000, 5000])
def test_every_key_stays_under_dynamodbs_limits(width: str, length: int) -> None:
    text = BYTES[width] * length
    event = StoredEvent(
        call_id=text,
        event_key=f"transcript#{text}#final#t1#{text}",
        source="vapi",
        event_type="transcript",
        retention_class=RetentionClass.CONTENT,
        expires_at=9_999_999_999,
        received_at_ms=1,
        body={},
    )
    item = to_item(event)
    assert len(item["pk"]["S"].encode()) <= 2048
    for name in ("sk", "exp_sk", "exp_bucket"):
        assert len(item[name]["S"].encode()) <= 1024, name
    assert len(tool_sk(text).encode()) <= 1024
    assert len(event_sk("EVT", "vapi", text).encode()) <= 4 + 5 + MAX_EVENT_KEY_BYTES


def test_a_bounded_key_is_stable_distinct_and_leaves_short_keys_alone() -> None:
    long_a, long_b = "a" * 1000, "a" * 999 + "b"
    assert key_part(long_a) == key_part(long_a) != key_part(long_b)
    assert key_part(long_a).startswith("h~") and len(key_part(long_a)) == 34
    assert key_part("73daba4d-2bcc-4cca-8e49-3d7903467ade") == "73daba4d-2bcc-4cca-8e49-3d7903467ade"
    assert key_part("x" * MAX_KEY_PART_BYTES) == "x" * MAX_KEY_PART_BYTES
    assert call_pk(long_a) == call_pk(long_a) == f"CALL#{key_part(long_a)}"
    assert key_part("\ud800") != "\ud800"  # never a key no encoder can write


def test_three_hundred_tool_call_ids_make_one_bounded_stable_key() -> None:
    ids = [{"id": f"call_{i:04d}_{'x' * 30}", "function": {"name": "f"}} for i in range(300)]
    body = json.dumps({"message": {"type": "tool-calls", "toolCallList": ids}}).encode()
    key = semantic_key(parse_envelope(body))
    assert key.startswith("tool-calls#h~") and key == semantic_key(parse_envelope(body))
    assert len(key.encode()) <= MAX_EVENT_KEY_BYTES


def test_a_long_call_id_is_bounded_before_keys_and_logs_see_it() -> None:
    body = json.dumps({"message": {"type": "hang", "call": {"id": "c" * 1000}}}).encode()
    call_id = parse_envelope(body).message.call_id
    assert call_id == key_part("c" * 1000) and len(call_id or "") == 34


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"status": "in-progress", "role": "user"}, {"status": "in-progress", "role": "user"}),
        ({"cost_usd": 0.25, "duration_s": 189}, {"cost_usd": 0.25, "duration_s": 189}),
        ({"cost_usd": 1e200, "duration_s": float("nan")}, {}),
        ({"cost_usd": 1e-200}, {}),
        ({"status": "+14155550123"}, {"status": key_part("+14155550123", 0)}),
        ({"role": "r" * 2000}, {"role": key_part("r" * 2000, 0)}),
    ],
)
def test_message_attributes_are_closed_tokens_and_storable_numbers(
    attributes: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert bounded_attributes(attributes) == expected
