"""irisserve.packaging.check: the packaging check passes exact exports, and says why not."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from irisserve.artifact.manifest import sha256_bytes
from irisserve.packaging.check import UNSEEN, agreement, checked_export, random_rows, sklearn_table
from irisserve.scorers.fast import FastScorer
from irisserve.scorers.linear import Linear
from tests.helpers.scorer_checks import cells, exported

pytestmark = pytest.mark.filterwarnings("ignore:Found unknown categories")

RNG = np.random.default_rng(21)
X = RNG.normal(size=(200, 3))
LABELS = np.digitize(X[:, 0], [-0.3, 0.3])


@pytest.fixture(scope="module")
def model() -> Any:
    return LogisticRegression().fit(X, LABELS)


def _nudged(scorer: FastScorer, factor: float) -> FastScorer:
    model = scorer.model
    assert isinstance(model, Linear)
    coef = [[w * factor for w in row] for row in model.coef]
    return FastScorer(scorer.width, scorer.steps, Linear(coef, model.intercept, model.link))


def test_an_exact_export_agrees(model: Any) -> None:
    result = agreement(model, exported(model), cells(X))
    assert result.exact
    assert result.reason is None
    assert result.rows_checked == 200
    assert result.max_difference <= 1e-12
    assert result.as_manifest()["exact"] is True


def test_scores_off_by_more_than_the_tolerance_are_refused(model: Any) -> None:
    result = agreement(model, _nudged(exported(model), 1 + 1e-9), cells(X))
    assert not result.exact
    assert result.reason is not None
    assert "of their scale, more than 1e-12" in result.reason


def test_different_labels_are_refused(model: Any) -> None:
    result = agreement(model, _nudged(exported(model), -1.0), cells(X))
    assert result.reason == "its labels differ from scikit-learn's"


def test_regression_values_and_mixed_tables() -> None:
    table = np.empty((120, 2), dtype=object)
    table[:, 0] = RNG.normal(size=120)
    table[:, 1] = np.array(["a", "b", "c"], dtype=object)[RNG.integers(0, 3, 120)]
    target = table[:, 0].astype(float) + (table[:, 1] == "a")
    forest = make_pipeline(
        ColumnTransformer([("c", OneHotEncoder(), [1])], remainder="passthrough"),
        RandomForestRegressor(n_estimators=3, random_state=0),
    ).fit(table, target)
    rows = cells(table)
    assert sklearn_table(rows).dtype == object
    assert agreement(forest, exported(forest), rows).max_difference == 0.0


def test_the_sklearn_table_marks_missing_cells_nan() -> None:
    table = sklearn_table([[1, None], [2.5, 3.0]])
    assert table.dtype == np.float64
    assert math.isnan(table[0, 1])


def test_a_checked_export_comes_with_its_record(model: Any) -> None:
    files, record = checked_export(model, cells(X))
    assert set(files) == {"scorer.json"}
    assert record["served"] is True
    assert record["files"] == {"scorer.json": sha256_bytes(files["scorer.json"])}
    assert record["rows_checked"] == 200


def test_an_estimator_without_an_export_is_recorded_with_the_reason() -> None:
    files, record = checked_export(KNeighborsClassifier().fit(X, LABELS), cells(X))
    assert files == {}
    assert record == {"served": False, "reason": "KNeighborsClassifier has no pickle-free export"}


def test_predictions_that_cancel_to_almost_zero_agree_within_their_sums() -> None:
    """BLAS's order and ours round differently: near 0, far more than 1e-12 relative, but
    within 1e-12 of the terms summed, which is what any order guarantees."""
    train = RNG.normal(size=(50, 4)) * 1000
    regression = LinearRegression().fit(train, train @ [1.0, -1.0, 0.5, -0.5])
    column = RNG.normal(size=(200, 1)) * 1000
    rows = np.hstack([column] * 4) + RNG.normal(size=(200, 4)) * 1e-9
    scores = exported(regression).score_rows(rows.tolist())
    relative = np.abs(np.subtract(scores.values, regression.predict(rows)))
    relative /= np.abs(regression.predict(rows))
    assert relative.max() > 1e-12  # what the check refused before it scaled by the sum
    files, record = checked_export(regression, rows.tolist())
    assert record["served"] is True
    assert set(files) == {"scorer.json"}


def _misreporting() -> Any:
    """A ``LinearRegression`` (by name, so it exports) whose own answers are 1e-9 relative
    off its coefficients'."""

    def predict(self: Any, x: Any) -> Any:
        return LinearRegression.predict(self, x) * (1 + 1e-9)

    return type("LinearRegression", (LinearRegression,), {"predict": predict})()


def test_an_export_that_disagrees_is_not_written() -> None:
    regression = _misreporting().fit(X, X @ [1.0, -1.0, 0.5] + 3.0)
    files, record = checked_export(regression, cells(X))
    assert files == {}
    assert record["served"] is False
    assert "of their scale, more than 1e-12" in record["reason"]
    assert "files" not in record


def test_random_rows_span_the_training_columns() -> None:
    training = [[1.0, "a", 5], [3.0, None, 7], [2.0, "b", 6]]
    rows = random_rows(training, 2_000, unseen=frozenset({1}))
    numbers = [r[0] for r in rows]
    assert len(rows) == 2_000
    assert min(numbers) < 1.0
    assert max(numbers) > 3.0
    assert min(numbers) >= -1.0
    assert {r[1] for r in rows} == {"a", "b", UNSEEN, None}
    assert all(r[2] is not None for r in rows)
    assert random_rows(training, 5, seed=3) == random_rows(training, 5, seed=3)


def test_a_pipeline_with_unseen_categories_and_missing_values_agrees() -> None:
    table = np.empty((150, 2), dtype=object)
    table[:, 0] = np.where(RNG.random(150) < 0.1, np.nan, RNG.normal(size=150))
    table[:, 1] = np.array(["x", "y", "z"], dtype=object)[RNG.integers(0, 3, 150)]
    target = (table[:, 1] == "x").astype(int)
    pipeline = make_pipeline(
        ColumnTransformer(
            [
                ("n", SimpleImputer(), [0]),
                ("c", OneHotEncoder(handle_unknown="ignore"), [1]),
            ]
        ),
        LogisticRegression(),
    ).fit(table, target)
    training = cells(table)
    rows = training + random_rows(training, 2_000, unseen=frozenset({1}))
    assert any(r[1] == UNSEEN for r in rows)
    assert any(r[0] is None for r in rows)
    files, record = checked_export(pipeline, rows)
    assert set(files) == {"scorer.json"}
    assert record["served"] is True, record
    assert record["rows_checked"] == 2_150
