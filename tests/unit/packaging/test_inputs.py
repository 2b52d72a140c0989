"""irisserve.packaging.inputs: column kinds, categories, statistics, task, and what probing
finds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from irisserve.artifact.manifest import CATEGORICAL, NUMERIC, Feature
from irisserve.packaging import inputs
from irisserve.packaging._positional import positional
from irisserve.packaging.errors import PackagingError
from tests.helpers.own_models import BUILDERS


def test_numbers_strings_and_pandas_categories() -> None:
    frame = pd.DataFrame(
        {
            "n": [1.5, np.nan, 3.0],
            "i": [1, 2, 3],
            "s": ["b", None, "a"],
            "c": pd.Categorical(["x", "y", "x"], categories=["y", "x", "z"]),
        }
    )
    kinds = inputs.features(frame)
    assert [(f.name, f.type) for f in kinds] == [
        ("n", NUMERIC),
        ("i", NUMERIC),
        ("s", CATEGORICAL),
        ("c", CATEGORICAL),
    ]
    assert kinds[2].categories == ["a", "b"]  # sorted, the missing value left out
    assert kinds[3].categories == ["y", "x", "z"]  # the dtype's own order
    stats = inputs.statistics(frame, kinds)
    assert (stats["n"].min, stats["n"].max, stats["n"].mean) == (1.5, 3.0, 2.25)
    assert inputs.cells(frame, kinds)[1] == [None, 2.0, None, "y"]


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ([True, False], "dtype bool"),
        (pd.to_datetime(["2024-01-01", "2024-01-02"]), "datetime64"),
        (["a", 1], "must hold strings"),
    ],
)
def test_columns_it_cannot_describe_are_named(column: object, message: str) -> None:
    with pytest.raises(PackagingError, match=f"column 'bad'.*{message}"):
        inputs.features(pd.DataFrame({"bad": column}))


def test_the_frame_follows_the_estimators_column_order() -> None:
    frame = pd.DataFrame({"b": [1.0, 2.0, 3.0, 4.0], "a": [0.0, 1.0, 0.0, 1.0]})
    estimator = LogisticRegression().fit(frame[["a", "b"]], [0, 1, 0, 1])
    assert list(inputs.frame(estimator, frame).columns) == ["a", "b"]
    with pytest.raises(PackagingError, match="no column 'a'"):
        inputs.frame(estimator, frame[["b"]])


def test_probing_asks_the_estimator_what_it_accepts() -> None:
    fitted = BUILDERS["pipeline"]()
    served = positional(fitted.estimator)  # what serving scores with: arrays, not DataFrames
    kinds = inputs.features(fitted.train)
    task = inputs.task(served, "survived")
    probed = inputs.probe(served, kinds, task, inputs.cells(fitted.train, kinds))
    by_name = {f.name: f for f in probed}
    assert by_name["age"].nullable  # imputed
    assert (by_name["embarked"].unknown, by_name["sex"].unknown) == ("ignore", "error")
    assert not by_name["sex"].nullable


def test_a_plain_linear_model_accepts_no_missing_value() -> None:
    fitted = BUILDERS["logistic_binary"]()
    kinds = inputs.features(fitted.train)
    task = inputs.task(fitted.estimator, "label")
    probed = inputs.probe(fitted.estimator, kinds, task, inputs.cells(fitted.train, kinds))
    assert probed == [Feature(f"f{i}") for i in range(5)]
    assert task.scores == "predict_proba"
    assert inputs.task(BUILDERS["svc"]().estimator, "y").scores == "decision_function"
