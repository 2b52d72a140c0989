"""Text models, packaged by ``python -m irisserve.packaging`` and served by a real process:
a TF-IDF pipeline that takes one text per row (its feature: ``text``) and a text column in a
``ColumnTransformer`` answer new sentences as the estimator does, with no drift warning, and
no training text shows in the manifest, ``/model-info``, ``/openapi.json`` or V2 metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from tests.helpers.support import FunctionProcess, package_through_the_cli

pytestmark = pytest.mark.integration

TRAINING = ["a good film", "a bad film", "great acting", "awful plot", "so good", "so bad"] * 4
LABELS = pd.Series([1, 0, 1, 0, 1, 0] * 4, name="y")
SENTENCES = ["never seen words at all", "good good good", "", "bad acting, awful film"]


def _one_text() -> tuple[Any, pd.DataFrame, list[Any]]:
    model = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(TRAINING, LABELS)
    return model, pd.DataFrame({"review": TRAINING}), [{"text": s} for s in SENTENCES]


def _text_column() -> tuple[Any, pd.DataFrame, list[Any]]:
    frame = pd.DataFrame({"review": TRAINING, "stars": np.arange(24.0) % 5})
    columns = ColumnTransformer([("words", TfidfVectorizer(), "review")], remainder="passthrough")
    model = make_pipeline(columns, LogisticRegression()).fit(frame, LABELS)
    return model, frame, [{"review": s, "stars": 2} for s in SENTENCES]


@pytest.mark.parametrize("build", [_one_text, _text_column], ids=["one-text", "text-column"])
def test_a_text_model_is_served_with_a_text_feature(tmp_path: Path, build: Any) -> None:
    model, frame, rows = build()
    joblib.dump(model, tmp_path / "model.joblib")
    said = package_through_the_cli(
        tmp_path / "model.joblib", frame.assign(y=LABELS), tmp_path, "reviews"
    )
    assert said.startswith("served by: sklearn (model.joblib)")
    text_name = next(iter(rows[0]))
    with FunctionProcess(env={"IRISSERVE_MODEL_DIR": str(tmp_path / "out")}) as served:
        reply = served.post_json("/predict", {"instances": rows})
        info = served.request("GET", "/model-info").body.decode()
        openapi = served.request("GET", "/openapi.json").json()
        metadata = served.request("GET", "/v2/models/reviews").json()
        refused = served.post_json("/predict", {"features": {**rows[0], text_name: 3}})
    assert reply.status == 200, reply.body
    predictions = reply.json()["predictions"]
    expected = model.predict_proba(
        SENTENCES if text_name == "text" else pd.DataFrame(rows).astype({"stars": float})
    )
    got = [[p["probabilities"]["0"], p["probabilities"]["1"]] for p in predictions]
    assert got == expected.tolist()
    assert not any("warnings" in p for p in predictions)
    manifest = (tmp_path / "out" / "manifest.json").read_text()
    for shown in (manifest, info, str(openapi), str(metadata)):
        assert not any(sentence in shown for sentence in set(TRAINING))
    row_schema = openapi["components"]["schemas"]["RowObject"]["properties"]
    assert row_schema[text_name]["type"] == "string"
    inputs = {tensor["name"]: tensor["datatype"] for tensor in metadata["inputs"]}
    assert inputs[text_name] == "BYTES"
    assert refused.status == 400
    assert f"{text_name}: expected a text (a string), got 3" in refused.json()["error"]
