"""irisserve.packaging._positional: a pipeline fitted on a DataFrame answers a numpy array
the same way."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from irisserve.packaging._positional import positional
from tests.helpers.own_models import BUILDERS


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_named_columns_are_found_by_position() -> None:
    fitted = BUILDERS["pipeline"]()
    rows = fitted.test.astype(object).to_numpy()
    with pytest.raises(ValueError, match="only supported for dataframes"):
        fitted.estimator.predict_proba(rows)
    served = positional(fitted.estimator)
    assert np.array_equal(served.predict_proba(rows), fitted.estimator.predict_proba(fitted.test))
    assert np.array_equal(
        served.predict_proba(fitted.test), fitted.estimator.predict_proba(fitted.test)
    )


def test_the_original_is_left_alone() -> None:
    fitted = BUILDERS["pipeline"]()
    before = [columns for _, _, columns in fitted.estimator[0].transformers_]
    positional(fitted.estimator)
    assert [columns for _, _, columns in fitted.estimator[0].transformers_] == before


def as_column(values: Any) -> Any:
    return np.asarray(values, dtype=np.float64).reshape(-1, 1)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_column_transformers_inside_unions_with_scalar_and_remainder_columns() -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

    fitted = BUILDERS["pipeline"]()
    frame = fitted.train[["fare", "pclass", "sex"]]
    columns = ColumnTransformer(
        [
            ("sex", OneHotEncoder(sparse_output=False), ["sex"]),
            ("fare", FunctionTransformer(as_column), "fare"),  # a scalar: one 1-D column
        ],
        remainder="passthrough",
    )
    union = FeatureUnion([("columns", columns)])
    estimator = make_pipeline(union, LogisticRegression()).fit(frame, fitted.y)
    served = positional(estimator)
    inner = served[0].transformer_list[0][1]
    assert [spec for _, _, spec in inner.transformers_] == [[2], 0, [1]]
    rows = frame.astype(object).to_numpy()
    assert np.array_equal(served.predict_proba(rows), estimator.predict_proba(frame))
