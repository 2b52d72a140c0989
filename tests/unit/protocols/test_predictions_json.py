"""irisserve.protocols.predictions_json: a batch's answer written from its columns is the very
bytes ``jsoncodec.encode`` writes of its prediction objects."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

import pytest

from irisserve import jsoncodec
from irisserve.artifact.manifest import Task
from irisserve.protocols.predictions import prediction_objects, predictions_payload
from irisserve.protocols.predictions_json import objects_json, predictions_body
from irisserve.scorers.contract import Scores
from tests.unit.protocols.arrays import as_arrays
from tests.unit.protocols.test_predictions import (
    CLASSIFIER,
    LARGE_SCORES,
    bundled_with,
    floats,
    large_case,
)


@pytest.mark.parametrize("n", [1, 2, 9, 700])
@pytest.mark.parametrize(("task", "names", "make"), LARGE_SCORES)
def test_the_body_is_the_encoded_payload(
    n: int, task: Task, names: list[str], make: Callable[[random.Random, int], Scores]
) -> None:
    _, model, scores, warnings = large_case(task, names, make, n)
    for flagged in (None, {}, warnings):
        for form in (scores, as_arrays(scores)):
            expected = jsoncodec.encode(predictions_payload(model, form, False, flagged))
            assert predictions_body(model, form, False, flagged) == expected
            objects = jsoncodec.encode(prediction_objects(model, form, flagged))
            assert objects_json(model, form, flagged) == objects
        one = scores.row(0)
        alone = None if not flagged else {0: flagged[0]}
        expected = jsoncodec.encode(predictions_payload(model, one, True, alone))
        assert predictions_body(model, as_arrays(one), True, alone) == expected


@pytest.mark.parametrize(
    ("classes", "warning"),
    [
        ([0, 2**70, 2], "far"),  # a class value orjson cannot write
        ([0, 1, 2], "lone \ud800 surrogate"),  # a warning orjson cannot write
    ],
)
def test_what_orjson_cannot_write_is_written_as_encode_writes_it(
    classes: list[object], warning: str
) -> None:
    model = bundled_with(replace(CLASSIFIER, classes=classes), ["a", "b", "c"])
    rng = random.Random(0)
    scores = as_arrays(Scores(labels=[1, 0, 2, 1], probabilities=floats(rng, 4, 3)))
    warnings = {2: [{"feature": "x", "value": warning, "message": warning}]}
    expected = jsoncodec.encode(predictions_payload(model, scores, False, warnings))
    assert predictions_body(model, scores, False, warnings) == expected
    objects = jsoncodec.encode(prediction_objects(model, scores, warnings))
    assert objects_json(model, scores, warnings) == objects
    assert b"\\u" in expected or b"1180591620717411303424" in expected  # the library wrote it
