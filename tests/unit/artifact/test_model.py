"""irisserve.artifact.model: Scores as a batch and one row of it, and the Model's refusal
of overflow."""

from __future__ import annotations

import numpy as np
import pytest

from irisserve.artifact.model import Model
from irisserve.errors import InvalidInput
from irisserve.scorers.contract import Scores
from tests.helpers.support import IRIS_CLASSES, IRIS_FEATURES, SETOSA, VERSICOLOR, VIRGINICA

ROWS = [SETOSA, VIRGINICA, VERSICOLOR]
HUGE = [1e308] * 4


def test_len_counts_labels_or_values() -> None:
    assert len(Scores(labels=[0, 2, 1], probabilities=[[1.0]] * 3)) == 3
    assert len(Scores(values=[0.5, 1.5])) == 2
    assert len(Scores()) == 0


def test_row_is_that_row_as_a_batch_of_one(model: Model) -> None:
    batch = model.predict_rows(ROWS)
    assert batch.labels == [0, 2, 1]
    assert batch.probabilities is not None
    for index, row in enumerate(ROWS):
        one = batch.row(index)
        assert len(one) == 1
        assert one.labels == [batch.labels[index]]
        assert one.probabilities == [batch.probabilities[index]]
        assert one.decision is None
        assert one.values is None
        assert one == model.predict_rows([row])


def test_row_of_a_regression_keeps_only_values() -> None:
    assert Scores(values=[0.5, 1.5, 2.5]).row(2) == Scores(values=[2.5])


def test_the_model_reads_its_manifest(model: Model) -> None:
    assert model.feature_names == IRIS_FEATURES
    assert model.class_names == IRIS_CLASSES
    assert model.version == model.manifest.model_version
    assert [f.name for f in model.features] == IRIS_FEATURES


def test_rows_as_an_array_answer_arrays_equal_to_the_lists(model: Model) -> None:
    scores = model.predict_rows(ROWS)
    from_array = model.predict_rows(np.array(ROWS, dtype=np.float64))
    assert from_array == scores
    assert type(scores.labels) is list
    assert type(scores.probabilities) is list
    assert isinstance(from_array.labels, np.ndarray)
    assert isinstance(from_array.probabilities, np.ndarray)
    assert from_array.labels.dtype == np.int64
    assert from_array.probabilities.dtype == np.float64
    assert from_array.probabilities.shape == (3, 3)
    assert from_array.probabilities.flags.c_contiguous
    for index in range(3):
        one = from_array.row(index)
        assert type(one.labels) is list
        assert type(one.probabilities) is list
        assert one == scores.row(index) == model.predict_rows([ROWS[index]])


def test_scores_differ_when_a_value_does() -> None:
    lists = Scores(labels=[0, 1], probabilities=[[0.25, 0.75], [0.5, 0.5]])
    arrays = Scores(labels=np.array([0, 1]), probabilities=np.array([[0.25, 0.75], [0.5, 0.5]]))
    assert lists == arrays
    assert arrays != Scores(labels=np.array([0, 1]), probabilities=np.array([[0.25, 0.75]] * 2))
    assert arrays != Scores(labels=np.array([0, 1]), decision=arrays.probabilities)
    assert arrays != "scores"


@pytest.mark.parametrize("as_array", [False, True])
def test_rows_whose_scores_overflow_are_refused_by_index(model: Model, as_array: bool) -> None:
    rows = [SETOSA, VIRGINICA, HUGE]
    with pytest.raises(InvalidInput, match="row 2: .* overflow"):
        model.predict_rows(np.array(rows) if as_array else rows)
    assert model.predict_rows(rows[:2]).labels == [0, 2]


@pytest.mark.parametrize(
    "scores",
    [
        Scores(labels=[0, 0], decision=[[1e308], [1e308]]),
        Scores(values=[1.7e308, 1.7e308]),
        Scores(labels=np.array([0, 0]), decision=np.array([[1e308], [1e308]])),
        Scores(values=np.array([1.7e308, 1.7e308])),
    ],
    ids=["decision", "values", "decision array", "values array"],
)
def test_finite_scores_whose_sum_overflows_are_served(model: Model, scores: Scores) -> None:
    class Huge:
        def score_rows(self, rows: object) -> Scores:
            return scores

    huge = Model(manifest=model.manifest, scorer=Huge(), backend="fast")
    assert huge.predict_rows([SETOSA, SETOSA]) == scores


@pytest.mark.parametrize(
    "scores",
    [
        Scores(labels=np.array([0, 0, 0]), probabilities=np.array([[0.5], [np.nan], [np.inf]])),
        Scores(labels=np.array([0, 0, 0]), decision=np.array([[1.0, 2.0], [3.0, -np.inf], [0, 0]])),
        Scores(values=np.array([1.0, np.inf, np.nan])),
    ],
    ids=["probabilities", "decision", "values"],
)
def test_non_finite_array_scores_are_refused_at_their_first_row(
    model: Model, scores: Scores
) -> None:
    class Overflowing:
        def score_rows(self, rows: object) -> Scores:
            return scores

    overflowing = Model(manifest=model.manifest, scorer=Overflowing(), backend="fast")
    with pytest.raises(InvalidInput, match="^row 1: the feature values are so large"):
        overflowing.predict_rows([SETOSA] * 3)
