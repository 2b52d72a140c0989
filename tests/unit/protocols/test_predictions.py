"""irisserve.protocols.predictions: a prediction object by the model's task, and every row's
answer parsing to the same floats, bit for bit, alone or in any batch."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from irisserve import jsoncodec
from irisserve.artifact.folder import open_artifact
from irisserve.artifact.manifest import CLASSIFICATION, REGRESSION, Task
from irisserve.artifact.model import Model
from irisserve.packaging import write_artifact
from irisserve.protocols.predictions import prediction_objects, predictions_payload
from irisserve.scorers.contract import Scores
from tests.helpers.own_models import BUILDERS
from tests.helpers.support import BUNDLED
from tests.unit.protocols.arrays import as_arrays


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


def large_case(
    task: Task, names: list[str], make: Callable[[random.Random, int], Scores], n: int
) -> tuple[random.Random, Model, Scores, dict[int, list[dict[str, Any]]]]:
    """A bundled model of ``task``, ``n`` rows of its scores, and warnings for 40 rows at the
    most (the first and last among them), all from ``random.Random(n)``; and that generator."""
    rng = random.Random(n)
    model, scores = bundled_with(task, names), make(rng, n)
    warnings = {
        row: [{"feature": "x\u00e9", "value": floats(rng, 1)[0], "message": "far"}]
        for row in {*rng.sample(range(n), min(n, 40)), 0, n - 1}
    }
    return rng, model, scores, warnings


def floats_of(value: Any) -> list[str]:
    """Every float in a parsed answer, in order, as its exact bits (``float.hex``)."""
    if isinstance(value, float):
        return [value.hex()]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [bits for item in items for bits in floats_of(item)]


@pytest.mark.parametrize("n", [1, 3, 1000])
@pytest.mark.parametrize(("task", "names", "make"), LARGE_SCORES)
def test_a_row_answers_the_same_floats_alone_and_in_any_batch(
    n: int, task: Task, names: list[str], make: Callable[[random.Random, int], Scores]
) -> None:
    rng, model, scores, warnings = large_case(task, names, make, n)
    for flagged in ({}, warnings):
        native = json.loads(jsoncodec.encode(predictions_payload(model, scores, False, flagged)))
        v1 = {"predictions": prediction_objects(model, scores, flagged)}
        assert json.loads(jsoncodec.encode(v1)) == {"predictions": native["predictions"]}
        assert native["model_version"] == model.version
        for index in {*rng.sample(range(n), min(n, 25)), 0, n - 1}:
            alone = {0: flagged[index]} if index in flagged else None
            one = predictions_payload(model, scores.row(index), True, alone)
            parsed = json.loads(jsoncodec.encode(one))
            assert parsed.pop("model_version") == model.version
            assert parsed == native["predictions"][index]
            assert floats_of(parsed) == floats_of(native["predictions"][index])
            assert floats_of(parsed) == floats_of(
                prediction_objects(model, scores.row(index), alone)
            )


@pytest.mark.parametrize(("task", "names", "make"), LARGE_SCORES)
def test_arrays_answer_the_very_bytes_lists_do(
    task: Task, names: list[str], make: Callable[[random.Random, int], Scores]
) -> None:
    model, scores = bundled_with(task, names), make(random.Random(5), 500)
    warnings = {3: [{"feature": "x", "value": 1.5, "message": "far"}]}
    for single in (False, True):
        from_lists = predictions_payload(model, scores, single, warnings)
        from_arrays = predictions_payload(model, as_arrays(scores), single, warnings)
        assert jsoncodec.encode(from_arrays) == jsoncodec.encode(from_lists)
    # repr: Python values only (a numpy scalar's repr names numpy)
    assert repr(prediction_objects(model, as_arrays(scores))) == repr(
        prediction_objects(model, scores)
    )
