"""irisserve.protocols.jsoncodec: strict decoding, compact encoding."""

from __future__ import annotations

import json

import numpy as np
import pytest

from irisserve.errors import InvalidInput, MalformedJSON
from irisserve.protocols import jsoncodec


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


def large(document: str) -> bytes:
    """``document`` padded with spaces past the size where orjson is tried first."""
    return document.encode().ljust(jsoncodec.LARGE_BODY_BYTES, b" ")


def test_large_bodies_decode_as_the_standard_library_does() -> None:
    rows = [[5.1, 3.5, 1.4, 0.2], [1, -0.0, 5e-324, 1.0000000000000002]] * 2000
    body = json.dumps({"instances": rows, "s": "\u00e9\ud800", "n": 12345678901234567890}).encode()
    assert len(body) >= jsoncodec.LARGE_BODY_BYTES
    assert jsoncodec.decode(body) == json.loads(body)


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


def _floats_of_every_magnitude(count: int) -> np.ndarray:
    rng = np.random.default_rng(19)
    spread = rng.standard_normal(count) * 10.0 ** rng.integers(-320, 300, count)
    probabilities = rng.random(count) ** 12  # many below 1e-4, where orjson writes otherwise
    signs = rng.choice([-1.0, 1.0], count)
    below = 10.0 ** rng.uniform(-10, -3, count) * signs  # both ways orjson differs, either sign
    few_digits = [np.round(10.0 ** rng.uniform(-6, -4, count // 4), d) for d in range(5, 9)]
    edges = [0.0, -0.0, 1e-4, 9.999999999999999e-05, 1e-5, 1e-7, 1e16, 1e15, 5e-324, 2.0]
    edges += [-1e-5, 2e-5, -2e-5, 1.5e-5, 1.0000000000000001e-05, -1e-7, 1e-9, -5e-324]
    values = np.concatenate([spread, probabilities, below, *few_digits, -few_digits[0], edges])
    return values[np.isfinite(values)]


def test_encode_numbers_writes_floats_as_the_standard_library_does() -> None:
    values = _floats_of_every_magnitude(50_000)
    assert jsoncodec.encode_numbers(values) == jsoncodec.encode(values.tolist())


@pytest.mark.parametrize(
    "values", [[0, -3, 2**62], [], [1.0], [1e-05], [-2e-05], [3e-07], [1.5e-05, 0.5, -1e-09]]
)
def test_encode_numbers_of_integers_and_short_arrays(values: list[float]) -> None:
    array = np.array(values, dtype=np.int64 if values and type(values[0]) is int else None)
    assert jsoncodec.encode_numbers(array) == jsoncodec.encode(array.tolist())


def test_append_member_is_the_member_written_last() -> None:
    payload = {"name": "predict", "shape": [2]}
    data = jsoncodec.encode([0, 1])
    whole = jsoncodec.encode({**payload, "data": [0, 1]})
    assert jsoncodec.append_member(jsoncodec.encode(payload), "data", data) == whole
    assert jsoncodec.append_member(b"{}", "data", data) == b'{"data":[0,1]}'


def test_number_texts_are_each_number_as_written_in_a_document() -> None:
    values = _floats_of_every_magnitude(3_000)[:2_997]
    expected = [jsoncodec.encode(v) for v in values.tolist()]
    matrix = values.reshape(-1, 3)
    for rows in (values, values.tolist(), matrix, matrix.tolist()):
        assert jsoncodec.number_texts(rows) == expected
    assert jsoncodec.number_texts([]) == []
    assert jsoncodec.number_texts([[1, -2], [3, 0]]) == [b"1", b"-2", b"3", b"0"]
