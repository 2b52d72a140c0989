"""irisserve.jsoncodec: strict decoding, compact encoding."""

from __future__ import annotations

import pytest

from irisserve import jsoncodec
from irisserve.errors import InvalidInput, MalformedJSON


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


def test_encode_refuses_nan() -> None:
    with pytest.raises(ValueError):
        jsoncodec.encode(float("nan"))
