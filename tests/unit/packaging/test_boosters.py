"""irisserve.packaging: an XGBoost or LightGBM pipeline packages with its pickle-free export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from irisserve.artifact.folder import open_artifact
from irisserve.packaging import write_artifact

RNG = np.random.default_rng(26)
FRAME = pd.DataFrame(
    {
        "size": RNG.normal(10.0, 3.0, 300),
        "weight": RNG.normal(size=300),
        "colour": RNG.choice(["red", "green", "blue"], 300),
    }
)
TARGET = ((FRAME["size"] > 10) ^ (FRAME["colour"] == "red")).astype(int)


@pytest.mark.parametrize(
    "model",
    [
        xgb.XGBClassifier(n_estimators=10, max_depth=3, n_jobs=1),
        lgb.LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1),
    ],
    ids=lambda m: type(m).__name__,
)
def test_a_booster_pipeline_is_served_by_its_export(tmp_path: Path, model: Any) -> None:
    front = ColumnTransformer(
        [("n", StandardScaler(), ["size", "weight"]), ("c", OneHotEncoder(), ["colour"])]
    )
    pipeline = make_pipeline(front, model).fit(FRAME, TARGET)
    manifest = write_artifact(pipeline, FRAME, tmp_path, name="boosted", version="1", y=TARGET)
    assert manifest.fast_export is not None
    assert manifest.fast_export["served"], manifest.fast_export
    assert manifest.fast_export["max_difference"] == 0.0
    served = open_artifact(tmp_path)
    assert served.backend == "fast"
    rows = FRAME.head(20).to_numpy().tolist()
    labels = np.asarray(served.predict_rows(rows).labels)
    assert np.array_equal(labels, pipeline.predict(FRAME.head(20)))
