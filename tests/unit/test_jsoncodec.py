"""irisserve.jsoncodec: strict decoding, and the one encoder whose floats parse back
bit for bit."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irisserve import jsoncodec
from irisserve.errors import InvalidInput, MalformedJSON
from tests.helpers.support import answer_floats


def test_round_trip() -> None:
    payload = {"a": [1, 2.5, "x", None, True]}
    assert jsoncodec.decode(jsoncodec.encode(payload)) == payload
    assert jsoncodec.encode({"a": 1}) == b'{"a":1}'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"{", "not valid JSON"),
        (b'{"features": [1, 2,]}', "not valid JSON"),
        (b"[NaN]", "NaN is not valid JSON"),
        (b"[Infinity]", "Infinity is not valid JSON"),
        (b"[-Infinity]", "-Infinity is not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"[" + b"9" * 5000 + b"]", "more than 4300 digits"),
    ],
)
def test_malformed(data: bytes, message: str) -> None:
    with pytest.raises(MalformedJSON, match=message):
        jsoncodec.decode(data)


def test_malformed_json_is_invalid_input() -> None:
    assert issubclass(MalformedJSON, InvalidInput)


def test_non_finite_floats_are_written_as_null() -> None:
    assert jsoncodec.encode([float("nan"), float("inf")]) == b"[null,null]"


@settings(max_examples=300)
@given(st.lists(answer_floats(), min_size=1))
def test_every_float_parses_back_bit_for_bit_and_reads_alike_alone_or_in_a_batch(
    values: list[float],
) -> None:
    encoded = jsoncodec.encode(values)
    assert [v.hex() for v in json.loads(encoded)] == [v.hex() for v in values]
    assert [v.hex() for v in jsoncodec.decode(encoded)] == [v.hex() for v in values]
    assert encoded == b"[" + b",".join(jsoncodec.encode(value) for value in values) + b"]"


@given(answer_floats())
def test_what_orjson_cannot_write_the_standard_library_writes_with_the_same_values(
    value: float,
) -> None:
    for document in ({"id": 2**70, "x": value}, {"id": "\ud800", "x": value}):
        assert json.loads(jsoncodec.encode(document)) == document
        assert json.loads(jsoncodec.encode(document))["x"].hex() == value.hex()


def large(document: str) -> bytes:
    """``document`` padded with spaces past the size where orjson is tried first."""
    return document.encode().ljust(jsoncodec.LARGE_BODY_BYTES, b" ")


def test_large_bodies_decode_as_the_standard_library_does() -> None:
    rows = [[5.1, 3.5, 1.4, 0.2], [1, -0.0, 5e-324, 1.0000000000000002]] * 2000
    body = json.dumps({"instances": rows, "s": "\u00e9\ud800", "n": 12345678901234567890}).encode()
    assert len(body) >= jsoncodec.LARGE_BODY_BYTES
    assert jsoncodec.decode(body) == json.loads(body)


def test_a_large_body_keeps_an_integer_beyond_64_bits() -> None:
    document = large(json.dumps({"id": 2**64 + 1, "instances": [[5.1, 3.5, 1.4, 0.2]]}))
    assert jsoncodec.decode(document)["id"] == 2**64 + 1


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("[NaN]", "NaN is not valid JSON"),
        ("[1, 2", "not valid JSON"),
        ("[" + "9" * 5000 + "]", "more than 4300 digits"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_large_bodies_are_refused_with_the_same_messages(document: str, message: str) -> None:
    with pytest.raises(MalformedJSON, match=message):
        jsoncodec.decode(large(document))
