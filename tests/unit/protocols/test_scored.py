"""irisserve.protocols.scored: one scored batch, its class counts and drift, as the request
log sees it."""

from __future__ import annotations

import numpy as np
import pytest

from irisserve.artifact.model import Model
from irisserve.config import Settings
from irisserve.drift import DriftReport
from irisserve.errors import InvalidInput
from irisserve.protocols.scored import Scored, score
from irisserve.scorers.contract import Scores
from tests.helpers.support import IRIS_CLASSES, SETOSA, VERSICOLOR, VIRGINICA

#: sepal_length just over its training maximum (7.9): out of range only without a margin.
EDGE = [8.0, 3.0, 5.5, 2.0]
#: sepal_length and petal_width far outside their training ranges.
FAR = [100.0, 3.0, 5.5, 9.0]


def test_log_fields_count_rows_and_classes(model: Model) -> None:
    scored = score(model, [SETOSA, VIRGINICA, SETOSA], Settings())
    assert scored.predictions == model.predict_rows([SETOSA, VIRGINICA, SETOSA])
    assert scored.class_counts == {"setosa": 2, "versicolor": 0, "virginica": 1}
    assert list(scored.class_counts) == IRIS_CLASSES
    assert scored.log_fields() == {
        "rows": 3,
        "class_counts": {"setosa": 2, "versicolor": 0, "virginica": 1},
        "out_of_range_rows": 0,
        "out_of_range": {},
    }


def test_a_batch_scored_in_numpy_logs_what_its_lists_log(model: Model) -> None:
    rows = [SETOSA, VIRGINICA, FAR, SETOSA] * 5
    from_array = score(model, np.array(rows), Settings())
    assert isinstance(from_array.predictions.labels, np.ndarray)
    assert from_array.predictions == score(model, rows, Settings()).predictions
    fields = from_array.log_fields()
    assert fields == score(model, rows, Settings()).log_fields()
    assert fields["class_counts"] == {"setosa": 10, "versicolor": 5, "virginica": 5}
    assert all(type(count) is int for count in fields["class_counts"].values())


def test_drift_fields_count_flagged_rows_and_features(model: Model) -> None:
    scored = score(model, [SETOSA, FAR, VERSICOLOR, FAR], Settings())
    assert sorted(scored.drift.warnings) == [1, 3]
    fields = scored.log_fields()
    assert fields["out_of_range_rows"] == 2
    assert fields["out_of_range"] == {"sepal_length": 2, "petal_width": 2}
    assert "unseen_categories" not in fields


@pytest.mark.parametrize(("margin", "flagged"), [(0.0, 1), (0.1, 0)])
def test_the_margin_comes_from_the_settings(model: Model, margin: float, flagged: int) -> None:
    scored = score(model, [EDGE], Settings(drift_margin=margin))
    assert scored.log_fields()["out_of_range_rows"] == flagged


def test_without_labels_there_are_no_class_counts() -> None:
    report = DriftReport(warnings={}, counts={}, rows=0, unseen={"colour": 1})
    scored = Scored(Scores(values=[1.5, 2.5]), report, class_counts=None)
    assert scored.log_fields() == {
        "rows": 2,
        "out_of_range_rows": 0,
        "out_of_range": {},
        "unseen_categories": {"colour": 1},
    }


def test_rows_whose_scores_overflow_are_refused(model: Model) -> None:
    with pytest.raises(InvalidInput, match="row 1: .* overflow"):
        score(model, [SETOSA, [1e308] * 4], Settings())
