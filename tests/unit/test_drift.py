"""Drift flags: irisserve.drift (pure), the margin setting, and the warnings /predict returns."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient

from irisserve.artifact.manifest import CATEGORICAL, Feature, FeatureStatistics
from irisserve.artifact.model import Model
from irisserve.config import Settings
from irisserve.drift import class_counts, drift, out_of_range
from irisserve.errors import ConfigurationError
from irisserve.serving import state
from tests.helpers.support import SETOSA, VIRGINICA, run_python

NAMES = ["a", "b"]
STATS = {"a": FeatureStatistics(min=1.0, max=3.0, mean=2.0, std=0.5)}  # "b" has none
FAR = [500.0, -3.0, 1e6, 0.2]  # sepal_length, sepal_width, petal_length far outside


KINDS: dict[str, Callable[[tuple[list[float], ...]], Any]] = {
    "lists": lambda values: [[float(v) for v in row] for row in values],  # a few rows
    "array": lambda values: np.array(values, dtype=np.float64),  # a large batch
}


@pytest.fixture(params=sorted(KINDS))
def rows(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Rows as validation hands them over: Python lists, or a float64 array."""
    make = KINDS[request.param]
    return lambda *values: make(values)


def test_rows_inside_the_ranges_are_not_flagged(rows: Callable[..., Any]) -> None:
    report = out_of_range(rows([1.0, 0.0], [3.0, 1e9]), NAMES, STATS, 0.0)
    assert (report.warnings, report.counts, report.rows) == ({}, {}, 0)


@pytest.mark.parametrize(
    ("margin", "value", "flagged"),
    [
        (0.0, 3.0, False),
        (0.0, 3.0001, True),
        (0.0, 0.9999, True),
        (0.5, 4.0, False),  # the range is 2 wide: 3 + 0.5 * 2
        (0.5, 4.0001, True),
        (0.5, 0.0, False),
        (0.5, -0.0001, True),
    ],
)
def test_the_margin_widens_the_training_range(
    rows: Callable[..., Any], margin: float, value: float, flagged: bool
) -> None:
    report = out_of_range(rows([value, 0.0]), NAMES, STATS, margin)
    assert bool(report.warnings) is flagged


def test_a_warning_names_the_feature_the_value_and_the_range(rows: Callable[..., Any]) -> None:
    report = out_of_range(rows([2.0, 0.0], [42.0, 7.0], [-1.0, 0.0]), NAMES, STATS, 0.1)
    assert sorted(report.warnings) == [1, 2]
    [warning] = report.warnings[1]
    assert warning == {
        "feature": "a",
        "value": 42.0,
        "training_min": 1.0,
        "training_max": 3.0,
        "message": "a is outside its training range [1.0, 3.0] by more than 10% of that range; "
        "the prediction is an extrapolation",
    }
    assert report.warnings[2][0]["value"] == -1.0
    assert report.counts == {"a": 2}
    assert report.rows == 2


def test_counts_are_per_feature_and_rows_count_once(model: Model, rows: Callable[..., Any]) -> None:
    batch = rows(SETOSA, FAR, [SETOSA[0], SETOSA[1], 100.0, SETOSA[3]])
    report = out_of_range(batch, model.feature_names, model.manifest.feature_statistics, 0.1)
    assert report.counts == {"sepal_length": 1, "sepal_width": 1, "petal_length": 2}
    assert report.rows == 2
    assert [w["feature"] for w in report.warnings[1]] == [
        "sepal_length",
        "sepal_width",
        "petal_length",
    ]


@pytest.mark.parametrize("labels", [[2, 0, 2], np.array([2, 0, 2], dtype=np.int64)])
def test_class_counts_name_every_class(labels: Any) -> None:
    assert class_counts(labels, ["x", "y", "z"]) == {"x": 1, "y": 0, "z": 2}


def test_lists_and_arrays_give_the_same_report(model: Model) -> None:
    generator = np.random.default_rng(8)
    batch = generator.uniform(-5.0, 15.0, size=(200, 4))
    stats = model.manifest.feature_statistics
    names = model.feature_names
    from_array = out_of_range(batch, names, stats, 0.1)
    assert 0 < from_array.rows < 200
    assert out_of_range(batch.tolist(), names, stats, 0.1) == from_array


def test_a_few_rows_are_checked_without_importing_numpy() -> None:
    script = (
        "import sys\n"
        "from irisserve.config import BUNDLED_MODEL_DIR\n"
        "from irisserve.drift import class_counts, out_of_range\n"
        "from irisserve.artifact.manifest import read_manifest\n"
        "m = read_manifest(BUNDLED_MODEL_DIR)\n"
        "r = out_of_range([[500.0, 3.0, 1.4, 0.2]], m.feature_names, m.feature_statistics, 0.1)\n"
        "assert r.counts == {'sepal_length': 1}, r\n"
        "assert class_counts([1], m.class_names)['versicolor'] == 1\n"
        "assert 'numpy' not in sys.modules\n"
    )
    run_python(script)


@pytest.mark.parametrize(("raw", "margin"), [("", 0.1), ("0", 0.0), ("0.25", 0.25), ("2", 2.0)])
def test_margin_setting(monkeypatch: pytest.MonkeyPatch, raw: str, margin: float) -> None:
    monkeypatch.setenv("IRISSERVE_DRIFT_MARGIN", raw)
    assert Settings.from_env().drift_margin == margin


@pytest.mark.parametrize("raw", ["-0.1", "ten", "nan", "inf"])
def test_a_bad_margin_names_the_variable(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("IRISSERVE_DRIFT_MARGIN", raw)
    with pytest.raises(ConfigurationError, match="IRISSERVE_DRIFT_MARGIN must be a non-negative"):
        Settings.from_env()


def predict(client: FlaskClient, payload: Any) -> Any:
    response = client.post("/predict", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def without_warnings(prediction: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in prediction.items() if key != "warnings"}


def test_a_far_row_gets_warnings_and_rows_inside_do_not(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = {"instances": [SETOSA, FAR, VIRGINICA]}
    flagged = predict(client, batch)["predictions"]
    assert "warnings" not in flagged[0]
    assert "warnings" not in flagged[2]
    assert [w["feature"] for w in flagged[1]["warnings"]] == [
        "sepal_length",
        "sepal_width",
        "petal_length",
    ]
    assert flagged[1]["warnings"][2]["value"] == 1e6
    assert flagged[1]["warnings"][2]["training_max"] == 6.9

    monkeypatch.setenv("IRISSERVE_DRIFT_MARGIN", "1e9")  # nothing is out of range now
    state.reset()  # settings are read once per process
    plain = predict(client, batch)["predictions"]
    assert all("warnings" not in p for p in plain)
    assert [without_warnings(p) for p in flagged] == plain


def test_a_single_far_row_carries_warnings_beside_its_scores(client: FlaskClient) -> None:
    body = predict(client, {"features": FAR})
    assert body["model_version"] == "1.0.0"
    assert {w["feature"] for w in body["warnings"]} == {
        "sepal_length",
        "sepal_width",
        "petal_length",
    }
    assert sum(body["probabilities"].values()) == pytest.approx(1.0)


def test_the_log_line_counts_out_of_range_rows_per_feature(
    client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    predict(client, {"instances": [FAR, FAR, SETOSA, [5.0, 3.0, 20.0, 0.2]]})
    [line] = [
        json.loads(text) for text in capsys.readouterr().out.splitlines() if "httpRequest" in text
    ]
    assert line["irisserve"]["out_of_range_rows"] == 3
    assert line["irisserve"]["out_of_range"] == {
        "sepal_length": 2,
        "sepal_width": 2,
        "petal_length": 3,
    }


MIXED = [
    Feature("a"),
    Feature("colour", CATEGORICAL, nullable=True, categories=["red", "blue"], unknown="ignore"),
]


def test_unseen_categories_are_counted_per_feature_beside_the_ranges() -> None:
    rows = [[2.0, "red"], [9.0, "green"], [None, "green"], [1.0, None]]
    report = drift(rows, MIXED, STATS, 0.0)
    assert report.unseen == {"colour": 2}
    assert report.counts == {"a": 1}
    assert report.rows == 1
    assert [w["feature"] for w in report.warnings[1]] == ["a", "colour"]
    assert report.warnings[2] == [
        {
            "feature": "colour",
            "value": "green",
            "message": "colour 'green' is a category not seen in training; "
            "the model scores it as none of the known ones",
        }
    ]
    assert set(report.warnings) == {1, 2}  # a missing value is never flagged


def test_a_missing_number_is_never_out_of_range() -> None:
    assert out_of_range([[None, 1.0]], NAMES, STATS, 0.0).rows == 0
    assert out_of_range(np.array([[np.nan, 1.0]]), NAMES, STATS, 0.0).rows == 0


def _row_by_row(rows: list[list[Any]]) -> Any:
    """The report of ``rows`` built from reports of one row at a time (the few-rows path)."""
    warnings: dict[int, list[dict[str, Any]]] = {}
    counts: dict[str, int] = {}
    unseen: dict[str, int] = {}
    flagged = 0
    for index, row in enumerate(rows):
        one = drift([row], MIXED, STATS, 0.0)
        flagged += one.rows
        if one.warnings:
            warnings[index] = one.warnings[0]
        for target, source in ((counts, one.counts), (unseen, one.unseen)):
            for name, count in source.items():
                target[name] = target.get(name, 0) + count
    return warnings, dict(sorted(counts.items())), flagged, unseen


@pytest.mark.parametrize("rows", [40, 200])
def test_a_large_batch_of_lists_is_reported_as_row_by_row(rows: int) -> None:
    generator = np.random.default_rng(rows)
    colours = ["red", "blue", "green", None]
    batch: list[list[Any]] = [
        [float(generator.uniform(0.0, 4.0)), colours[int(generator.integers(4))]]
        for _ in range(rows)
    ]
    batch[3][0] = None
    report = drift(batch, MIXED, STATS, 0.0)
    assert 0 < report.rows < rows
    assert report.unseen["colour"] > 0
    assert (report.warnings, report.counts, report.rows, report.unseen) == _row_by_row(batch)


def test_a_large_batch_with_other_cells_in_a_ranged_column_is_checked_row_by_row() -> None:
    batch: list[list[Any]] = [[2.0, "red"]] * 20 + [[9, "red"], ["x", "blue"]]
    report = out_of_range(batch, NAMES, STATS, 0.0)
    assert report.warnings == {20: [{**report.warnings[20][0], "value": 9}]}
    assert type(report.warnings[20][0]["value"]) is int
