"""irisserve.packaging.tolerance: 1e-12 of what any summation order can promise, no looser."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from irisserve.packaging.tolerance import TOLERANCE, difference, magnitudes

RNG = np.random.default_rng(5)
X = RNG.normal(size=(80, 3))
LABELS = (X[:, 0] > 0).astype(int)


def test_a_probability_is_compared_in_absolute_terms() -> None:
    """The passengers row that refused its export on a CPU without AVX-512: its score one
    ulp off scikit-learn's BLAS, so ``expit`` one ulp off near 1, and ``1 - p`` (as
    scikit-learn computes it) 2.2e-16 off a probability of 1.5e-4: 1.44e-12 relative."""
    ours, theirs = 0.9998458567626552, 0.999845856762655
    actual, expected = [[1 - ours, ours]], [[1 - theirs, theirs]]
    assert abs(actual[0][0] - expected[0][0]) / expected[0][0] > TOLERANCE
    assert difference("probabilities", actual, expected) < 1e-15
    assert difference("probabilities", [[0.6 + 1e-9, 0.4 - 1e-9]], [[0.6, 0.4]]) > TOLERANCE


def test_a_score_is_compared_to_the_terms_it_sums() -> None:
    near_zero, off = [[1e-9]], [[1e-9 + 1e-13]]
    assert difference("values", off, near_zero) == pytest.approx(1e-4, rel=1e-3)  # relative
    assert difference("values", off, near_zero, magnitude=[1e3]) == pytest.approx(1e-16)
    assert difference("decision", [[2.0 + 1e-9]], [[2.0]], magnitude=[1.0]) > TOLERANCE


def test_nan_only_on_one_side_or_another_shape_is_infinitely_far() -> None:
    assert difference("values", [[np.nan]], [[np.nan]]) == 0.0
    assert difference("values", [[np.nan]], [[1.0]]) == np.inf
    assert difference("probabilities", [[0.5, 0.5]], [[1.0]]) == np.inf


def test_the_magnitude_of_a_pipelines_linear_step() -> None:
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X * 10, LABELS)
    scaled = pipeline[0].transform(X * 10)
    model = pipeline[-1]
    expected = np.abs(scaled) @ np.abs(model.coef_[0]) + abs(model.intercept_[0])
    np.testing.assert_allclose(magnitudes(pipeline, X * 10), expected, rtol=1e-15)
    assert magnitudes(RandomForestClassifier(n_estimators=2).fit(X, LABELS), X) is None
