"""irisserve.protocols.predictions: a prediction object by the model's task, and large
answers written
piece by piece exactly as the objects were written."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from irisserve.artifact.folder import open_artifact
from irisserve.artifact.manifest import CLASSIFICATION, REGRESSION, Task
from irisserve.artifact.model import Model
from irisserve.packaging import write_artifact
from irisserve.protocols import jsoncodec
from irisserve.protocols.predictions import (
    LARGE_ANSWER_ROWS,
    encode_prediction_list,
    encode_predictions,
    prediction_objects,
    predictions_payload,
)
from irisserve.scorers.contract import Scores
from tests.helpers.own_models import BUILDERS
from tests.helpers.support import BUNDLED


def packaged(kind: str, folder: Path) -> Model:
    fitted = BUILDERS[kind]()
    write_artifact(fitted.estimator, fitted.train, folder, name=kind, version="2.0.0")
    return open_artifact(folder)


def test_a_regressor_answers_its_value(tmp_path: Path) -> None:
    model = packaged("ridge", tmp_path)
    warnings = {1: [{"feature": "bmi", "message": "far"}]}
    payload = predictions_payload(model, Scores(values=[151.3, 80.0]), False, warnings)
    assert payload == {
        "predictions": [{"prediction": 151.3}, {"prediction": 80.0, "warnings": warnings[1]}],
        "model_version": "2.0.0",
    }
    assert predictions_payload(model, Scores(values=[151.3]), True) == {
        "prediction": 151.3,
        "model_version": "2.0.0",
    }


def test_a_classifier_without_probabilities_answers_its_decision_scores(tmp_path: Path) -> None:
    model = packaged("svc", tmp_path)
    scores = Scores(labels=[2], decision=[[0.1, 1.2, 2.3]])
    assert predictions_payload(model, scores, True) == {
        "prediction": 2,
        "prediction_label": "2",
        "decision_function": [0.1, 1.2, 2.3],
        "model_version": "2.0.0",
    }


def test_labels_alone_when_the_model_scores_nothing_else(tmp_path: Path) -> None:
    model = packaged("svc", tmp_path)
    answer = predictions_payload(model, Scores(labels=[0, 1]), False)["predictions"]
    assert answer == [
        {"prediction": 0, "prediction_label": "0"},
        {"prediction": 1, "prediction_label": "1"},
    ]


def bundled_with(task: Task, class_names: list[str]) -> Model:
    """The bundled Iris model under another task and class names (what the encoders read)."""
    model = open_artifact(BUNDLED)
    manifest = replace(model.manifest, class_names=class_names, task=task, model_version="3.é")
    return Model(manifest=manifest, scorer=model.scorer, backend=model.backend)


def floats(rng: random.Random, n: int, columns: int = 0) -> Any:
    """Finite floats of every kind the encoders write differently: tiny, huge, -0.0, integral."""
    pool = [0.0, -0.0, 1.0, 1e-05, 9.99e-05, 1e-4, 5e-324, 1e16, 1.5e300, -2.5, 1e15]

    def one() -> float:
        draw = rng.random()
        if draw < 0.2:
            return rng.choice(pool)
        return rng.uniform(-1, 1) * 10.0 ** rng.randint(-12, 20) if draw < 0.6 else draw**8

    return [one() for _ in range(n)] if not columns else [floats(rng, columns) for _ in range(n)]


THREE = ["setosa", "versi\u00e9color", 'vir"gin\\ica']
CLASSIFIER = Task(CLASSIFICATION, classes=[0, "one", 2.5], scores="predict_proba")
LARGE_SCORES: list[tuple[Task, list[str], Callable[[random.Random, int], Scores]]] = [
    (
        CLASSIFIER,
        THREE,
        lambda rng, n: Scores(
            labels=[rng.randrange(3) for _ in range(n)], probabilities=floats(rng, n, 3)
        ),
    ),
    (
        replace(CLASSIFIER, scores="decision_function"),
        THREE,
        lambda rng, n: Scores(
            labels=[rng.randrange(3) for _ in range(n)], decision=floats(rng, n, 3)
        ),
    ),
    (
        Task(CLASSIFICATION, classes=[False, True], scores="decision_function"),
        ["no", "yes"],
        lambda rng, n: Scores(
            labels=[rng.randrange(2) for _ in range(n)], decision=floats(rng, n, 1)
        ),
    ),
    (
        replace(CLASSIFIER, scores=None),
        THREE,
        lambda rng, n: Scores(labels=[rng.randrange(3) for _ in range(n)]),
    ),
    (Task(REGRESSION, output="price"), [], lambda rng, n: Scores(values=floats(rng, n))),
    (  # keys that collapse: written object by object
        CLASSIFIER,
        ["a", "b", "a"],
        lambda rng, n: Scores(
            labels=[rng.randrange(3) for _ in range(n)], probabilities=floats(rng, n, 3)
        ),
    ),
]


@pytest.mark.parametrize("n", [LARGE_ANSWER_ROWS, 1000])
@pytest.mark.parametrize(("task", "names", "make"), LARGE_SCORES)
def test_large_answers_are_the_objects_written_as_smaller_ones_byte_for_byte(
    n: int, task: Task, names: list[str], make: Callable[[random.Random, int], Scores]
) -> None:
    rng = random.Random(n)
    model, scores = bundled_with(task, names), make(rng, n)
    warnings = {
        row: [{"feature": "x\u00e9", "value": floats(rng, 1)[0], "message": "far"}]
        for row in [*sorted(rng.sample(range(n), 40)), 0, n - 1]
    }
    for flagged in ({}, warnings):
        objects = prediction_objects(model, scores, flagged)
        native = {"predictions": objects, "model_version": model.version}
        assert encode_predictions(model, scores, False, flagged) == jsoncodec.encode(native)
        v1 = jsoncodec.encode({"predictions": objects})
        assert encode_prediction_list(model, scores, flagged) == v1


@pytest.mark.parametrize("n", [1, 2, LARGE_ANSWER_ROWS - 1])
def test_smaller_answers_are_written_by_the_standard_library(n: int) -> None:
    model = bundled_with(CLASSIFIER, THREE)
    scores = LARGE_SCORES[0][2](random.Random(n), n)
    objects = prediction_objects(model, scores)
    single = n == 1
    payload = predictions_payload(model, scores, single)
    assert encode_predictions(model, scores, single) == jsoncodec.encode(payload)
    assert encode_prediction_list(model, scores) == jsoncodec.encode({"predictions": objects})


def test_classes_without_a_name_each_are_written_object_by_object() -> None:
    model = bundled_with(Task(CLASSIFICATION, classes=[0, 1, 2], scores=None), ["a", "b"])
    scores = Scores(labels=[0, 1] * LARGE_ANSWER_ROWS)
    payload = predictions_payload(model, scores, False)
    assert encode_predictions(model, scores, False) == jsoncodec.encode(payload)
