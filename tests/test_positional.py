"""irisserve.positional: a pipeline fitted on a DataFrame answers a numpy array the same way."""

from __future__ import annotations

import numpy as np
import pytest

from irisserve.positional import positional
from tests.own_models import BUILDERS


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
