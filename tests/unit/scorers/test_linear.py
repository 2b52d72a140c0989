"""irisserve.scorers.linear: linear models answer like scikit-learn, whatever the batch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.svm import LinearSVC

from irisserve.scorers._spec import NotExportable
from irisserve.scorers.fast import export
from tests.helpers.scorer_checks import (
    assert_batch_invariant,
    assert_exact_scorer,
    assert_like_sklearn,
    case_id,
    exported,
)

RNG = np.random.default_rng(3)
X = RNG.normal(size=(240, 5))
TARGET = X @ [1.0, -2.0, 3.0, 0.5, 0.0] + 50.0 + RNG.normal(size=240)
BINARY = (X[:, 0] + X[:, 1] > 0).astype(int)
THREE = np.digitize(X[:, 0] - X[:, 2], [-0.5, 0.5])
ROWS = RNG.normal(size=(150, 5)) * 1.5


@pytest.mark.parametrize(
    ("estimator", "target"),
    [
        (LogisticRegression(), BINARY),
        (LogisticRegression(C=10.0), THREE),
        (SGDClassifier(loss="log_loss", random_state=0), BINARY),
        (SGDClassifier(loss="log_loss", random_state=0), THREE),
        (SGDClassifier(random_state=0), THREE),
        (LinearSVC(), BINARY),
        (LinearSVC(), THREE),
        (LinearRegression(), TARGET),
        (Ridge(), TARGET),
        (Lasso(alpha=0.1), TARGET),
        (ElasticNet(alpha=0.1), TARGET),
        (SGDRegressor(random_state=0), TARGET),
    ],
    ids=case_id,
)
def test_linear_models_answer_like_sklearn(estimator: Any, target: Any) -> None:
    estimator.fit(X, target)
    scores = assert_exact_scorer(estimator, ROWS)
    if hasattr(estimator, "classes_") and not hasattr(estimator, "predict_proba"):
        assert scores.decision is not None
        assert len(scores.decision[0]) == (1 if len(estimator.classes_) == 2 else 3)


@pytest.fixture(scope="module")
def multinomial() -> Any:
    return LogisticRegression(C=10.0).fit(X, THREE)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (12, 5), elements=st.floats(-1e3, 1e3, allow_subnormal=False)))
def test_random_rows_like_sklearn(multinomial: Any, rows: Any) -> None:
    scorer = exported(multinomial)
    alone = [scorer.score_rows([row]).probabilities for row in rows.tolist()]
    batch = scorer.score_rows(rows)
    assert batch.probabilities == [p[0] for p in alone if p is not None]
    assert_like_sklearn(multinomial, batch, rows)


def test_probabilities_of_huge_scores_saturate_without_error() -> None:
    estimator = LogisticRegression().fit(X, BINARY)
    rows = np.full((3, 5), 1e6) * [[1], [-1], [0]]
    assert_exact_scorer(estimator, rows)


@pytest.mark.parametrize(
    "estimator",
    [
        Ridge().fit(X, np.column_stack([TARGET, TARGET])),
        SGDClassifier(loss="modified_huber").fit(X, BINARY),
    ],
)
def test_what_cannot_be_exported_says_why(estimator: Any) -> None:
    with pytest.raises(NotExportable, match=type(estimator).__name__):
        export(estimator)


@pytest.mark.parametrize("target", [BINARY, THREE, TARGET], ids=case_id)
def test_scores_that_overflow_are_the_same_on_every_path(target: Any) -> None:
    """The model layer refuses such rows; the scorer only has to answer them consistently."""
    estimator = (LinearRegression() if target is TARGET else LogisticRegression()).fit(X, target)
    rows = np.vstack([np.full((3, 5), 1e308) * [[1], [-1], [0.5]], ROWS[:10]])
    assert_batch_invariant(exported(estimator), rows.tolist(), rows)
