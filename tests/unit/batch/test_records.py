"""Input lines into records: JSONL bodies with ids, CSV rows as named bodies, sources kept."""

from __future__ import annotations

import pytest

from irisserve.batch.records import Record, read_records
from irisserve.errors import InvalidInput, MalformedJSON


def test_jsonl_lines_become_bodies_with_their_ids_and_line_numbers() -> None:
    lines = [
        b'{"features": [5.1, 3.5, 1.4, 0.2], "id": "a"}\n',
        b"\n",
        b'{"features": {"sepal_length": 5.9}}\r\n',
        b"[1, 2]",
    ]
    records = list(read_records("in.jsonl", lines, "jsonl"))
    assert records == [
        Record(
            "in.jsonl",
            1,
            '{"features": [5.1, 3.5, 1.4, 0.2], "id": "a"}',
            body={"features": [5.1, 3.5, 1.4, 0.2]},
            id="a",
        ),
        Record(
            "in.jsonl",
            3,
            '{"features": {"sepal_length": 5.9}}',
            body={"features": {"sepal_length": 5.9}},
        ),
        Record("in.jsonl", 4, "[1, 2]", body=[1, 2]),
    ]
    assert records[0].source() == {"id": "a"}
    assert records[1].source() == {"file": "in.jsonl", "line": 3}


def test_a_jsonl_line_that_is_not_json_keeps_the_function_s_error() -> None:
    (record,) = read_records("f", [b'{"features": [NaN]}'], "jsonl")
    assert isinstance(record.error, MalformedJSON)
    assert "NaN is not valid JSON" in str(record.error)
    assert record.body is None
    assert record.raw == '{"features": [NaN]}'
    (latin,) = read_records("f", [b'{"caf\xe9": 1}'], "jsonl")
    assert str(latin.error) == "the body is not UTF-8 (byte 5)"
    assert latin.raw == '{"caf\ufffd": 1}'


def test_csv_rows_become_named_bodies_with_json_numbers_nulls_and_text() -> None:
    lines = [
        b"sepal_length,sepal_width,id,petal_length,petal_width\n",
        b"5.1,3.5,r1,1.4,2\n",
        b"\n",
        b"-1e3, ,,abc,0\n",
        b'"5",NaN,x,1.5,"0.2"\n',
    ]
    records = list(read_records("in.csv", lines, "csv"))
    assert [r.line for r in records] == [2, 4, 5]
    assert records[0].body == {
        "features": {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 2}
    }
    assert records[0].id == "r1"
    assert records[1].body == {
        "features": {
            "sepal_length": -1000.0,
            "sepal_width": None,
            "petal_length": "abc",
            "petal_width": 0,
        }
    }
    assert records[1].id is None
    assert records[1].source() == {"file": "in.csv", "line": 4}
    assert records[2].body["features"]["sepal_length"] == 5
    assert records[2].body["features"]["sepal_width"] == "NaN"


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
    (record,) = read_records("in.csv", [header, line], "csv")
    assert type(record.error) is InvalidInput
    assert str(record.error) == message
    assert record.line == 2
