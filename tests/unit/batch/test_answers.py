"""Batch answers are the function's: each body's answer or error, as if sent alone.

Every body is also POSTed alone to the predict function (functions-framework's test
client); the batch outcome must equal that answer, or that error message and code.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from irisserve.artifact.model import Model
from irisserve.batch.answers import Outcome, Refusal, answer_bodies
from irisserve.config import Settings
from irisserve.jsoncodec import encode
from tests.helpers.support import IRIS_FEATURES as NAMES
from tests.helpers.support import SETOSA

#: Finite values whose scores overflow: valid input, refused when scored.
OVERFLOW = {"features": [1e308, 1e308, 1e308, 1e308]}

#: A body for every kind of bad row the function refuses, decoded as JSON.
BAD_BODIES: list[Any] = [
    42,
    "features",
    [SETOSA],
    None,
    {},
    {"features": SETOSA, "instances": [SETOSA]},
    {"feature": SETOSA},
    {"features": SETOSA, "x": 1},
    {"features": {name: 1.0 for name in NAMES[:3]}},
    {"features": {**dict.fromkeys(NAMES, 1.0), "colour": 1}},
    {"features": [1.0, 2.0, 3.0]},
    {"features": [*SETOSA, 1.0]},
    {"features": []},
    {"features": ["5.1", 3.5, 1.4, 0.2]},
    {"features": [True, 3.5, 1.4, 0.2]},
    {"features": {**dict.fromkeys(NAMES, 1.0), "sepal_width": False}},
    {"features": [None, 3.5, 1.4, 0.2]},
    {"features": None},
    {"features": [[5.1], 3.5, 1.4, 0.2]},
    {"features": [{"v": 5.1}, 3.5, 1.4, 0.2]},
    {"features": 5.1},
    {"features": [10**400, 3.5, 1.4, 0.2]},
    OVERFLOW,
    {"instances": []},
    {"instances": None},
    {"instances": {"sepal_length": 1}},
    {"instances": [SETOSA, [1, 2, "abc", 4]]},
]


def random_row(rng: random.Random) -> list[float] | dict[str, float]:
    """A row inside or (now and then) outside the training ranges, as a list or named."""
    row = [rng.uniform(-1.0, 9.0) for _ in NAMES]
    return dict(zip(NAMES, row, strict=True)) if rng.random() < 0.3 else row


def function_answer(client: Any, body: Any) -> tuple[int, bytes]:
    response = client.post("/predict", data=json.dumps(body), content_type="application/json")
    return response.status_code, response.data


def assert_same_as_function(client: Any, body: Any, outcome: Outcome) -> None:
    """An answer is the function's byte for byte (as ``jsoncodec`` writes it); an error
    has its message and code."""
    status, data = function_answer(client, body)
    if status == 200:
        assert isinstance(outcome, dict), body
        assert encode(outcome) == data, body
    else:
        answer = json.loads(data)
        assert outcome == Refusal(answer["error"], answer["code"]), body


def test_every_bad_body_gets_the_function_s_message_and_code(client: Any, model: Model) -> None:
    outcomes = answer_bodies(model, BAD_BODIES, Settings())
    assert len(outcomes) == len(BAD_BODIES)
    for body, outcome in zip(BAD_BODIES, outcomes, strict=True):
        assert isinstance(outcome, Refusal)
        assert_same_as_function(client, body, outcome)


def test_valid_rows_scored_together_are_each_answered_as_alone(client: Any, model: Model) -> None:
    rng = random.Random(16)
    bodies = [{"features": random_row(rng)} for _ in range(300)]
    outcomes = answer_bodies(model, bodies, Settings())
    assert not any(isinstance(outcome, Refusal) for outcome in outcomes)
    assert any(
        "warnings" in o for o in outcomes if isinstance(o, dict)
    )  # out-of-range rows flagged
    for body, outcome in zip(bodies, outcomes, strict=True):
        assert_same_as_function(client, body, outcome)


def test_bad_rows_mixed_in_leave_the_valid_ones_answered(client: Any, model: Model) -> None:
    """Including a row whose scores overflow: the batch is then scored row by row."""
    rng = random.Random(61)
    bodies: list[Any] = [{"features": random_row(rng)} for _ in range(100)]
    for bad in BAD_BODIES:
        bodies.insert(rng.randrange(len(bodies)), bad)
    outcomes = answer_bodies(model, bodies, Settings())
    assert sum(isinstance(o, dict) for o in outcomes) == 100
    for body, outcome in zip(bodies, outcomes, strict=True):
        assert_same_as_function(client, body, outcome)


def test_a_batch_line_with_several_instances_is_refused(model: Model) -> None:
    (outcome,) = answer_bodies(model, [{"instances": [SETOSA, SETOSA]}], Settings())
    assert isinstance(outcome, Refusal)
    assert outcome.code == "invalid_input"
    assert "put each of the" in outcome.error


class CountingPredictions:
    """Wraps ``Model.predict_rows``: how many rows each call scored."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[int] = []
        original = Model.predict_rows

        def predict_rows(model: Model, rows: Any) -> Any:
            self.calls.append(len(rows))
            return original(model, rows)

        monkeypatch.setattr(Model, "predict_rows", predict_rows)


#: Bad rows that look like one-row bodies: they reach the schema's whole-batch pass.
BAD_FEATURES = [
    b for b in BAD_BODIES if isinstance(b, dict) and list(b) == ["features"] and b != OVERFLOW
]


@pytest.mark.parametrize("bad", BAD_FEATURES, ids=[json.dumps(b)[:40] for b in BAD_FEATURES])
def test_one_bad_row_in_the_middle_of_a_batch_leaves_the_rest_scored_as_a_batch(
    client: Any, model: Model, bad: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(25)
    bodies: list[Any] = [{"features": random_row(rng)} for _ in range(40)]
    bodies.insert(20, bad)
    counting = CountingPredictions(monkeypatch)
    outcomes = answer_bodies(model, bodies, Settings())
    assert counting.calls == [40]  # the 40 valid rows in one call
    assert isinstance(outcomes[20], Refusal)
    for body, outcome in zip(bodies, outcomes, strict=True):
        assert_same_as_function(client, body, outcome)


def test_a_valid_batch_is_validated_as_one_array_and_scored_in_one_call(
    client: Any, model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(52)
    bodies = [{"features": random_row(rng)} for _ in range(50)]
    parsed: list[Any] = []
    parse_rows = model.schema.parse_rows

    def spy(rows: list[Any], where: str) -> Any:
        parsed.append(result := parse_rows(rows, where))
        return result

    monkeypatch.setattr(model.schema, "parse_rows", spy)
    counting = CountingPredictions(monkeypatch)
    outcomes = answer_bodies(model, bodies, Settings())
    assert counting.calls == [50]
    assert [len(rows) for rows in parsed] == [50]
    assert not isinstance(parsed[0], list)  # the numpy whole-batch pass
    for body, outcome in zip(bodies, outcomes, strict=True):
        assert_same_as_function(client, body, outcome)
