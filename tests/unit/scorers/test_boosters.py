"""irisserve.scorers.boosters: the dispatch by library, and the boosting spec's new fields
refused when malformed."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from sklearn.ensemble import GradientBoostingClassifier

from irisserve.errors import ArtifactIntegrityError
from irisserve.scorers.boosters import booster_covers, export_booster
from irisserve.scorers.fast import JSON_NAME, export, load

RNG = np.random.default_rng(26)
X = RNG.normal(size=(200, 3))
X[:, 2] = RNG.integers(0, 5, 200)
Y = ((X[:, 2] % 2 == 0) ^ (X[:, 0] > 0)).astype(int)


def test_a_model_of_another_library_is_not_a_booster() -> None:
    model = GradientBoostingClassifier(n_estimators=2).fit(X, Y)
    assert export_booster(model) is None
    with pytest.raises(TypeError, match="not an XGBoost or LightGBM model"):
        booster_covers(model)


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    model = xgb.XGBClassifier(
        n_estimators=3, max_depth=2, enable_categorical=True, feature_types=["q", "q", "c"]
    )
    return export(model.fit(X, Y))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("float32_sum", 1, "booleans"),
        ("label_by_probability", "yes", "booleans"),
        ("link", "exp", "float32_sum has no exp link"),
        ("truncate", [3], "truncate"),
        ("invalid", {"2": 7}, "invalid must be a list"),
        ("invalid", [[2]], r"\[feature, code\] pairs"),
        ("invalid", [[3, 7]], r"\[feature, code\] pairs"),
        ("invalid", [[2, 256]], "invalid must hold integers below 256"),
    ],
)
def test_a_malformed_field_is_refused(
    files: dict[str, bytes], field: str, value: Any, message: str
) -> None:
    document = json.loads(files[JSON_NAME])
    assert "invalid" in document["model"]  # the categorical feature's code
    document["model"][field] = value
    with pytest.raises(ArtifactIntegrityError, match=message):
        load(files | {JSON_NAME: json.dumps(document).encode()})
