"""training.exact_logistic: the objective's exact optimum, with arithmetic no CPU changes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.linear_model._linear_loss import LinearModelLoss

from training.exact_logistic import (
    exact_exp,
    fit_at_optimum,
    fit_binary,
    fit_multinomial,
    fit_pipeline_at_optimum,
)
from training.examples import passengers_pipeline
from training.passengers import passengers


def test_exact_exp_is_within_an_ulp_of_libm() -> None:
    for x in [*np.linspace(-745.0, 709.0, 20_001).tolist(), 0.0, -1e-300, 1e-10]:
        assert math.isclose(exact_exp(x), math.exp(x), rel_tol=4.5e-16, abs_tol=5e-324)


def _loss_gradient(weights, intercept, x: np.ndarray, y: np.ndarray, c: float):
    """scikit-learn's own objective (the one lbfgs minimises) and its gradient."""
    loss = LinearModelLoss(HalfMultinomialLoss(n_classes=len(intercept)), fit_intercept=True)
    packed = np.hstack([weights, np.asarray(intercept)[:, None]]).ravel(order="F")
    return loss.loss_gradient(packed, x, y.astype(np.float64), None, 1.0 / (c * len(x)))


@pytest.mark.parametrize("c", [0.1, 1.0, 10.0])
def test_the_fit_is_scikit_learns_optimum(c: float) -> None:
    x, y = load_iris(return_X_y=True)
    weights, intercept = fit_multinomial(x.tolist(), y.tolist(), 3, c)
    loss, gradient = _loss_gradient(np.array(weights), intercept, x, y, c)
    assert np.abs(gradient).max() < 1e-13
    assert sum(intercept) == pytest.approx(0.0, abs=1e-12)
    # lbfgs, even at a far tighter tolerance than training's, stops no lower.
    reference = LogisticRegression(C=c, tol=1e-12, max_iter=10_000).fit(x, y)
    reference_loss, _ = _loss_gradient(reference.coef_, reference.intercept_, x, y, c)
    assert loss <= reference_loss


def test_scikit_learn_keeps_the_optimum_and_its_settings() -> None:
    x, y = load_iris(return_X_y=True)
    estimator = fit_at_optimum(LogisticRegression(C=1.0, max_iter=1000), x, y)
    weights, intercept = fit_multinomial(x.tolist(), y.tolist(), 3, 1.0)
    assert np.array_equal(estimator.coef_, weights)
    assert np.array_equal(estimator.intercept_, intercept)
    assert estimator.n_iter_.tolist() == [0]
    assert estimator.get_params()["warm_start"] is False


@pytest.mark.parametrize("c", [0.1, 1.0, 10.0])
def test_the_binary_fit_is_scikit_learns_optimum(c: float) -> None:
    x, y = load_iris(return_X_y=True)
    x, y = x[y > 0], (y[y > 0] == 2).astype(int)  # versicolor or virginica: not separable
    coef, intercept = fit_binary(x.tolist(), y.tolist(), c)
    loss = LinearModelLoss(HalfBinomialLoss(), fit_intercept=True)
    packed = np.array([*coef, intercept])
    value, gradient = loss.loss_gradient(packed, x, y.astype(np.float64), None, 1 / (c * len(x)))
    assert np.abs(gradient).max() < 1e-13
    reference = LogisticRegression(C=c, tol=1e-12, max_iter=10_000).fit(x, y)
    packed = np.array([*reference.coef_[0], reference.intercept_[0]])
    reference_value, _ = loss.loss_gradient(packed, x, y.astype(np.float64), None, 1 / (c * len(x)))
    assert value <= reference_value


def test_a_pipelines_last_step_is_fitted_at_the_optimum() -> None:
    x, y = passengers(rows=300, seed=4)
    pipeline = fit_pipeline_at_optimum(passengers_pipeline(), x, y)
    model = pipeline[-1]
    assert model.n_iter_.tolist() == [0]
    inputs = pipeline[:-1].transform(x)
    coef, intercept = fit_binary(inputs.tolist(), (y == "yes").astype(int).tolist(), model.C)
    assert model.coef_.tolist() == [coef]
    assert model.intercept_.tolist() == [intercept]


def test_only_unweighted_models_with_an_intercept_are_fitted_this_way() -> None:
    x, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="unweighted models with an intercept"):
        fit_at_optimum(LogisticRegression(class_weight="balanced"), x, y)
