"""irisserve.schema: every rejection, with its message."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from irisserve.errors import BatchTooLarge, InvalidInput
from irisserve.schema import parse_body, parse_instances, parse_row
from tests.support import IRIS_FEATURES, SETOSA

NAMES = IRIS_FEATURES
ROW = SETOSA


def test_features_list_becomes_one_float64_row() -> None:
    rows = parse_body({"features": ROW}, NAMES, 10)
    assert rows.single
    assert rows.values.dtype == np.float64
    assert rows.values.tolist() == [ROW]


def test_named_features_follow_manifest_order() -> None:
    named = {"petal_width": 0.2, "sepal_length": 5.1, "petal_length": 1.4, "sepal_width": 3.5}
    assert parse_body({"features": named}, NAMES, 10).values.tolist() == [ROW]


def test_instances_mix_lists_and_objects_in_order() -> None:
    rows = parse_body(
        {"instances": [ROW, dict(zip(NAMES, [6.5, 3, 5.5, 2], strict=True)), [1, 2, 3, 4]]},
        NAMES,
        10,
    )
    assert not rows.single
    assert rows.values.shape == (3, 4)
    assert rows.values.tolist() == [ROW, [6.5, 3.0, 5.5, 2.0], [1.0, 2.0, 3.0, 4.0]]


def test_integers_are_accepted_as_numbers() -> None:
    assert parse_row([5, 3, 1, 0], NAMES, "features") == [5.0, 3.0, 1.0, 0.0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], 'the body must be a JSON object with "features" or "instances", got [1, 2]'),
        (3, 'the body must be a JSON object with "features" or "instances", got 3'),
        ({}, 'the body must have exactly one of "features" (one row) or "instances"'),
        ({"features": ROW, "instances": [ROW]}, "exactly one of"),
        ({"feature": ROW}, 'unknown key "feature"'),
        ({"features": ROW, "extra": 1}, 'unknown key "extra"'),
        ({"features": [1, 2, 3]}, "features: expected 4 features, got 3"),
        ({"features": [1, 2, 3, 4, 5]}, "features: expected 4 features, got 5"),
        ({"features": [1, 2, "abc", 4]}, 'features[2]: expected a finite number, got "abc"'),
        ({"features": [1, 2, "3", 4]}, 'features[2]: expected a finite number, got "3"'),
        ({"features": [1, True, 3, 4]}, "features[1]: expected a finite number, got true"),
        ({"features": [1, None, 3, 4]}, "features[1]: expected a finite number, got null"),
        ({"features": [1, [2], 3, 4]}, "features[1]: expected a finite number, got [2]"),
        ({"features": [1, {"a": 2}, 3, 4]}, 'features[1]: expected a finite number, got {"a": 2}'),
        ({"features": [1, math.inf, 3, 4]}, "features[1]: expected a finite number"),
        ({"features": [1, -math.inf, 3, 4]}, "features[1]: expected a finite number"),
        ({"features": [1, math.nan, 3, 4]}, "features[1]: expected a finite number"),
        ({"features": [10**400, 2, 3, 4]}, "features[0]: number is too large"),
        ({"features": "5.1,3.5,1.4,0.2"}, "features: expected a list of 4 numbers or an object"),
        ({"features": None}, "features: expected a list of 4 numbers or an object"),
        ({"features": {"sepal_length": 1}}, 'features: missing feature "sepal_width"'),
        ({"features": {**dict(zip(NAMES, ROW, strict=True)), "x": 1}}, 'unknown feature "x"'),
        (
            {"features": {**dict(zip(NAMES, ROW, strict=True)), "petal_width": "wide"}},
            'features.petal_width: expected a finite number, got "wide"',
        ),
        ({"instances": []}, "instances: the batch is empty"),
        ({"instances": ROW}, "instances[0]: expected a list of 4 numbers or an object"),
        ({"instances": {"a": ROW}}, 'instances: expected a list of rows, got {"a": '),
        ({"instances": [ROW, [1, 2, 3]]}, "instances[1]: expected 4 features, got 3"),
        ({"instances": [ROW, ROW, ROW, [1, 2, "abc", 4]]}, "instances[3][2]: expected a finite"),
        ({"instances": [ROW, [1, 2, 1e308 * 10, 4]]}, "instances[1][2]: expected a finite number"),
        ({"instances": [ROW, [1, 2, 3, 10**400]]}, "instances[1][3]: number is too large"),
        ({"instances": [ROW, None]}, "instances[1]: expected a list of 4 numbers"),
    ],
)
def test_rejections_name_the_place(body: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_body(body, NAMES, 10)
    assert message in str(caught.value)


def test_batch_over_the_row_limit_is_its_own_error() -> None:
    with pytest.raises(BatchTooLarge, match="3 rows is over the limit of 2"):
        parse_instances([ROW] * 3, NAMES, 2)
    assert parse_instances([ROW] * 2, NAMES, 2).shape == (2, 4)


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_row([1, 2, 3, "x" * 500], NAMES, "features")
    assert len(str(caught.value)) < 120
    assert str(caught.value).endswith('..."') or str(caught.value).endswith("...")


def test_invalid_input_is_a_value_error() -> None:
    assert issubclass(InvalidInput, ValueError)
    assert issubclass(BatchTooLarge, InvalidInput)
