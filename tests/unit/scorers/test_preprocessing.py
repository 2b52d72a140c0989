"""irisserve.scorers.preprocessing: pipelines of imputers, scalers and encoders in a
ColumnTransformer transform like scikit-learn, bit for bit, in front of any model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler

from irisserve.errors import InvalidInput
from irisserve.scorers._ops import BatchOps, RowOps
from irisserve.scorers.contract import as_list
from irisserve.scorers.fast import NotExportable, export
from irisserve.scorers.preprocessing import run
from tests.helpers.scorer_checks import assert_exact_scorer, cells, exported

pytestmark = pytest.mark.filterwarnings("ignore:Found unknown categories")

RNG = np.random.default_rng(13)


def _table(n: int, unseen: bool) -> Any:
    """Two numbers (the first sometimes missing), a string category (sometimes missing),
    a numeric category and a free number; ``unseen`` adds categories training never saw."""
    table = np.empty((n, 5), dtype=object)
    table[:, 0] = np.where(RNG.random(n) < 0.15, np.nan, RNG.normal(size=n))
    table[:, 1] = RNG.normal(size=n) * 3
    names = np.array(["red", "green", "blue"] + (["violet"] if unseen else []), dtype=object)
    table[:, 2] = np.where(RNG.random(n) < 0.1, np.nan, names[RNG.integers(0, len(names), n)])
    table[:, 3] = RNG.integers(0, 5 if unseen else 4, n).astype(float)
    table[:, 4] = RNG.normal(size=n)
    return table


X = _table(300, unseen=False)
ROWS = _table(150, unseen=True)
LABELS = ((np.nan_to_num(X[:, 0].astype(float)) > 0) ^ (X[:, 2] == "red")).astype(int)
LABELS = LABELS + (X[:, 3] == 2.0)


def _columns(imputer: str = "median", remainder: Any = "passthrough") -> ColumnTransformer:
    return ColumnTransformer(
        [
            (
                "number",
                make_pipeline(SimpleImputer(strategy=imputer, fill_value=-1.0), StandardScaler()),
                [0],
            ),
            ("range", MinMaxScaler(clip=True), [1]),
            (
                "colour",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", drop="first"),
                ),
                [2],
            ),
            ("code", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), [3]),
        ],
        remainder=remainder,
    )


@pytest.mark.parametrize(
    "model",
    [
        LogisticRegression(max_iter=2000),
        RandomForestClassifier(n_estimators=8, random_state=0),
        HistGradientBoostingClassifier(max_iter=8),
    ],
    ids=lambda m: type(m).__name__,
)
def test_a_pipeline_answers_like_sklearn(model: Any) -> None:
    assert_exact_scorer(make_pipeline(_columns(), model).fit(X, LABELS), ROWS, numeric=False)


def _transformed(transformer: Any, table: Any) -> tuple[Any, list[list[Any]]]:
    """scikit-learn's transform, and ours on each row alone and on the batch."""
    steps = exported(make_pipeline(transformer, Ridge()).fit(X, LABELS)).steps
    rows = cells(table)
    alone = [run(list(row), steps, RowOps()) for row in rows]
    batch = run([list(c) for c in zip(*rows, strict=True)], steps, BatchOps(len(rows)))
    assert [list(r) for r in zip(*[np.asarray(c).tolist() for c in batch], strict=True)] == [
        [float(v) for v in row] for row in alone
    ]
    return transformer.transform(table).astype(float), alone


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent", "constant"])
@pytest.mark.parametrize("remainder", ["passthrough", "drop", StandardScaler()])
def test_column_transformer_outputs_equal_sklearns(strategy: str, remainder: Any) -> None:
    expected, ours = _transformed(_columns(strategy, remainder), ROWS)
    np.testing.assert_array_equal(np.array(ours, dtype=float), expected)


def test_scalers_without_centring_or_clipping_and_string_constants() -> None:
    transformer = ColumnTransformer(
        [
            ("a", StandardScaler(with_mean=False), [1]),
            ("b", StandardScaler(with_std=False), [4]),
            ("c", MinMaxScaler(feature_range=(-1, 3)), [1]),
            (
                "d",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="none"),
                    OneHotEncoder(sparse_output=False),
                ),
                [2],
            ),
            ("e", "passthrough", [3]),
            ("f", "drop", [0]),
        ]
    )
    expected, ours = _transformed(transformer, _table(100, unseen=False))
    np.testing.assert_array_equal(np.array(ours, dtype=float), expected)


def test_ordinal_encoder_keeps_a_missing_category_as_its_encoded_value() -> None:
    transformer = ColumnTransformer([("o", OrdinalEncoder(encoded_missing_value=-2), [2])])
    expected, ours = _transformed(transformer, _table(100, unseen=False))
    assert -2.0 in expected
    np.testing.assert_array_equal(np.array(ours, dtype=float), expected)


def test_an_unknown_category_under_handle_unknown_error_is_invalid_input() -> None:
    pipeline = make_pipeline(
        ColumnTransformer([("c", OneHotEncoder(), [3])]), LogisticRegression()
    ).fit(X, LABELS)
    scorer = exported(pipeline)
    known = cells(X[:20])
    labels = scorer.score_rows(known).labels
    assert labels is not None
    assert as_list(labels) == pipeline.predict(X[:20]).tolist()
    for batch in ([[1.0, 0.0, "red", 7.0, 0.0]], [[1.0, 0.0, "red", 7.0, 0.0]] * 12):
        with pytest.raises(InvalidInput, match=r"unknown category 7\.0"):
            scorer.score_rows(batch)


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        (SimpleImputer(add_indicator=True), "add_indicator"),
        (SimpleImputer(missing_values=-1.0), "missing_values"),
        (OneHotEncoder(min_frequency=5), "infrequent"),
        (OneHotEncoder(handle_unknown="infrequent_if_exist"), "handle_unknown"),
    ],
)
def test_what_cannot_be_exported_says_why(step: Any, reason: str) -> None:
    column = [3] if isinstance(step, OneHotEncoder) else [1]
    pipeline = Pipeline([("c", ColumnTransformer([("s", step, column)])), ("m", Ridge())])
    with pytest.raises(NotExportable, match=reason):
        export(pipeline.fit(X, LABELS))
