"""A chunk of lines read, answered and written as the pipeline does it, without Beam.

Each answer line must be the function's answer to the row alone, byte for byte, after the
row's id; each bad row's error line must carry the function's message and code; and a
row's line must not depend on the chunk it lands in.
"""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irisserve.artifact.model import Model
from irisserve.batch.answers import answer_bodies
from irisserve.batch.output import chunk_lines
from irisserve.batch.records import read_chunks
from irisserve.config import Settings
from tests.unit.batch.test_answers import CountingPredictions
from tests.unit.batch.test_pipeline import BAD_LINES, random_row

#: Finite values whose scores overflow: the chunk is then scored row by row.
OVERFLOW = b'{"features": [1e308, 1e308, 1e308, 1e308]}'


def scored_lines(model: Model, blocks: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """Every answer line and error line of a file read as ``blocks``."""
    answers: list[bytes] = []
    errors: list[bytes] = []
    for chunk in read_chunks("in.jsonl", blocks, "jsonl"):
        lines = chunk_lines(chunk, answer_bodies(model, chunk.bodies, Settings()))
        answers += lines.answers.split(b"\n") if lines.answers else []
        errors += lines.errors.split(b"\n") if lines.errors else []
        assert (lines.scored, lines.rejected) == (
            lines.answers.count(b"\n") + bool(lines.answers),
            lines.errors.count(b"\n") + bool(lines.errors),
        )
    return answers, errors


def valid_lines(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    return [json.dumps({"id": n, "features": random_row(rng)}).encode() for n in range(count)]


def function_reply(client: Any, body: bytes) -> tuple[int, bytes]:
    response = client.post("/predict", data=body, content_type="application/json")
    return response.status_code, response.data


@pytest.mark.parametrize(
    "bad", BAD_LINES, ids=[line[:30].decode(errors="replace") for line in BAD_LINES]
)
def test_one_bad_row_in_the_middle_of_a_chunk_leaves_the_rest_scored_as_a_batch(
    bad: bytes, client: Any, model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = valid_lines(25, 40)
    data = b"\n".join([*lines[:20], bad, *lines[20:]]) + b"\n"
    counting = CountingPredictions(monkeypatch)
    answers, errors = scored_lines(model, [data])
    if bad != OVERFLOW:  # the 40 valid rows in one call (an overflow: each row alone)
        assert counting.calls == [40]
    assert len(answers) == 40
    (error,) = errors
    status, reply = function_reply(client, bad)
    expected = json.loads(reply)
    assert json.loads(error) == {
        "file": "in.jsonl",
        "line": 21,
        "raw": bad.decode(errors="replace"),
        "error": expected["error"],
        "code": expected["code"],
    }
    assert status in (400, 413)
    for line, answer in zip(lines, answers, strict=True):
        body = json.loads(line)
        status, reply = function_reply(client, json.dumps({"features": body["features"]}).encode())
        assert status == 200
        assert answer == b'{"id":%d,' % body["id"] + reply[1:]  # the function's bytes


@settings(max_examples=25, deadline=None)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=12_000), max_size=12),
    bad=st.lists(st.sampled_from([*BAD_LINES[:4], OVERFLOW]), max_size=3),
)
def test_a_row_s_line_is_the_same_whatever_chunk_it_lands_in(
    model: Model, cuts: list[int], bad: list[bytes]
) -> None:
    lines = valid_lines(52, 150)
    for index, line in enumerate(bad):
        lines.insert(37 * (index + 1), line)
    data = b"\n".join(lines) + b"\n"
    points = sorted({0, len(data), *(cut for cut in cuts if cut < len(data))})
    blocks = [data[a:b] for a, b in itertools.pairwise(points)]
    answers, errors = scored_lines(model, blocks)
    whole_answers, whole_errors = scored_lines(model, [data])
    assert answers == whole_answers
    assert sorted(errors) == sorted(whole_errors)
    assert len(answers) + len(errors) == len(lines)
