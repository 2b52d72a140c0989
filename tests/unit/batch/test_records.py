"""Input bytes into chunks: JSONL bodies with ids, CSV rows as named bodies, sources kept."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irisserve import jsoncodec
from irisserve.batch.records import Chunk, read_chunks
from irisserve.errors import InvalidInput, MalformedJSON


def one_chunk(data: bytes, fmt: str = "jsonl") -> Chunk:
    (chunk,) = read_chunks("in", [data], fmt)
    return chunk


def test_jsonl_lines_become_bodies_with_their_ids_and_line_numbers() -> None:
    data = (
        b'{"features": [5.1, 3.5, 1.4, 0.2], "id": "a"}\n'
        b"\n"
        b'{"features": {"sepal_length": 5.9}}\r\n'
        b"[1, 2]"
    )
    chunk = one_chunk(data)
    assert chunk.lines == [1, 3, 4]
    assert chunk.raws == [
        b'{"features": [5.1, 3.5, 1.4, 0.2], "id": "a"}',
        b'{"features": {"sepal_length": 5.9}}',
        b"[1, 2]",
    ]
    assert chunk.bodies == [
        {"features": [5.1, 3.5, 1.4, 0.2]},
        {"features": {"sepal_length": 5.9}},
        [1, 2],
    ]
    assert chunk.ids == ["a", None, None]
    assert (chunk.refused, len(chunk), chunk.size) == ([], 3, len(data))


def test_a_jsonl_line_that_is_not_json_keeps_the_function_s_error() -> None:
    chunk = one_chunk(b'{"features": [NaN]}\n{"caf\xe9": 1}\n{"features": [1]}\n')
    nan, latin = chunk.refused
    assert isinstance(nan.error, MalformedJSON)
    assert "NaN is not valid JSON" in str(nan.error)
    assert (nan.line, nan.raw) == (1, b'{"features": [NaN]}')
    assert str(latin.error) == "the body is not UTF-8 (byte 5)"
    assert chunk.lines == [3]
    assert len(chunk) == 3


@pytest.mark.parametrize(
    "line",
    [
        b'{"id": 18446744073709551616, "features": [1, 2, 3, 4]}',  # orjson: a float
        b'{"features": [1e400, 2, 3, 4]}',  # orjson refuses, json reads inf
        b'{"features": ["\\ud800", 2, 3, 4]}',  # a lone surrogate: json only
        b'{"features": [' + b"[" * 450 + b"]" * 450 + b", 2, 3, 4]}",  # deep: jsoncodec decides
    ],
)
def test_a_line_is_decoded_as_jsoncodec_decodes_the_function_s_body(line: bytes) -> None:
    """Where orjson and json differ, the line gets json's reading (the function's)."""
    chunk = one_chunk(b'{"features": [1, 2, 3, 4]}\n' + line + b"\n")
    expected = jsoncodec.decode(line)
    row_id = expected.pop("id", None)
    assert chunk.bodies[1] == expected
    assert repr(chunk.ids[1]) == repr(row_id)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.sampled_from(
            [
                b'{"features": [5.1, 3.5, 1.4, 0.2], "id": 7}',
                b'{"features": [1, 2]}',
                b"",
                b"  ",
                b"{bad",
                b'{"id": "\\u00e9", "features": {"sepal_length": 1}}',
                b"42",
            ]
        ),
        max_size=40,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8),
)
def test_rows_are_the_same_wherever_the_blocks_are_cut(lines: list[bytes], cuts: list[int]) -> None:
    data = b"\n".join(lines)
    points = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    blocks = [data[a:b] for a, b in itertools.pairwise(points)]

    def rows(parts: list[bytes]) -> list[tuple[int, bytes, str]]:
        found = []
        for chunk in read_chunks("in", parts, "jsonl"):
            found += [
                (n, r, json.dumps(b))
                for n, r, b in zip(chunk.lines, chunk.raws, chunk.bodies, strict=True)
            ]
            found += [(x.line, x.raw, str(x.error)) for x in chunk.refused]
        return sorted(found)

    assert rows(blocks) == rows([data])
    assert [n for n, _, _ in rows([data])] == [
        number for number, line in enumerate(lines, 1) if line.strip()
    ]


def test_csv_rows_become_named_bodies_with_json_numbers_nulls_and_text() -> None:
    data = (
        b"sepal_length,sepal_width,id,petal_length,petal_width\n"
        b"5.1,3.5,r1,1.4,2\n"
        b"\n"
        b"-1e3, ,,abc,0\n"
        b'"5",NaN,x,1.5,"0.2"\n'
    )
    chunk = one_chunk(data, "csv")
    assert chunk.lines == [2, 4, 5]
    assert chunk.bodies[0] == {
        "features": {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 2}
    }
    assert chunk.ids == ["r1", None, "x"]
    assert chunk.bodies[1] == {
        "features": {
            "sepal_length": -1000.0,
            "sepal_width": None,
            "petal_length": "abc",
            "petal_width": 0,
        }
    }
    features = chunk.bodies[2]["features"]
    assert (features["sepal_length"], type(features["sepal_length"])) == (5, int)
    assert features["sepal_width"] == "NaN"
    assert features["petal_width"] == 0.2


def test_the_csv_header_holds_for_every_chunk_of_the_file() -> None:
    header = b"sepal_length,sepal_width,petal_length,petal_width\n"
    chunks = list(read_chunks("in.csv", [header, b"1,2,3,4\n", b"5,6,7,8\n"], "csv"))
    assert [chunk.lines for chunk in chunks] == [[2], [3]]
    assert chunks[1].bodies[0]["features"]["petal_width"] == 8


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"1,2,3\n", "line has 3 cells, the header has 4"),
        (b"1,2,3,4,5\n", "line has 5 cells, the header has 4"),
        (b"1,2,3,\xff\n", "line is not UTF-8 (byte 6)"),
    ],
)
def test_a_csv_row_that_does_not_fit_the_header_is_an_error(line: bytes, message: str) -> None:
    header = b"sepal_length,sepal_width,petal_length,petal_width\n"
    (refused,) = one_chunk(header + line, "csv").refused
    assert type(refused.error) is InvalidInput
    assert str(refused.error) == message
    assert refused.line == 2
