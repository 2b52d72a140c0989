"""irisserve.protocol: a prediction object by the model's task."""

from __future__ import annotations

from pathlib import Path

from irisserve.artifact import open_artifact
from irisserve.model import Model, Scores
from irisserve.package import write_artifact
from irisserve.protocol import predictions_payload
from tests.own_models import BUILDERS


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
