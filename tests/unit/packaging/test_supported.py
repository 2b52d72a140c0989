"""irisserve.packaging serves text as text features, refuses multi-output models with a
sentence, and records
every library the pickled estimator needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy
import scipy.stats
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from irisserve.artifact.folder import open_artifact
from irisserve.artifact.manifest import Feature, read_manifest
from irisserve.packaging import PackagingError, write_artifact
from irisserve.packaging.libraries import modules
from tests.helpers.own_models import local_module_model

TEXTS = pd.DataFrame({"review": ["good film", "bad film", "great", "awful", "so good", "bad"] * 5})
LABELS = np.array([1, 0, 1, 0, 1, 0] * 5)
NUMBERS = np.random.default_rng(0).normal(size=(40, 3))


def refusal(estimator: Any, x: Any, folder: Path) -> str:
    """The message packaging refuses ``estimator`` with; nothing is written."""
    with pytest.raises(PackagingError) as refused:
        write_artifact(estimator, x, folder / "out", name="m", version="1")
    assert not (folder / "out").exists()
    return str(refused.value)


@pytest.mark.parametrize("vectorizer", [TfidfVectorizer, CountVectorizer, HashingVectorizer])
@pytest.mark.parametrize("as_frame", [True, False])
def test_a_text_pipeline_is_served_as_one_text_column(
    tmp_path: Path, vectorizer: type, as_frame: bool
) -> None:
    model = make_pipeline(vectorizer(), LogisticRegression()).fit(TEXTS["review"], LABELS)
    manifest = write_artifact(
        model, TEXTS if as_frame else TEXTS["review"], tmp_path, name="m", version="1"
    )
    assert manifest.input_schema == [Feature("text", "text", unknown="ignore")]
    assert manifest.model_type == f"Pipeline({vectorizer.__name__}, LogisticRegression)"
    assert "good film" not in (tmp_path / "manifest.json").read_text()
    served = open_artifact(tmp_path)
    sentences = ["a film never seen", "", "bad bad bad"]
    scores = served.predict_rows([[s] for s in sentences])
    assert scores.probabilities == model.predict_proba(sentences).tolist()


def test_a_text_column_is_a_text_feature_not_a_category(tmp_path: Path) -> None:
    frame = TEXTS.assign(n=np.arange(30.0))
    columns = ColumnTransformer([("words", TfidfVectorizer(), 0)], remainder="passthrough")
    model = make_pipeline(columns, LogisticRegression()).fit(frame.to_numpy(), LABELS)
    manifest = write_artifact(model, frame, tmp_path, name="m", version="1")
    assert [(f.name, f.type, f.categories) for f in manifest.features] == [
        ("review", "text", None),
        ("n", "numeric", None),
    ]
    assert "good film" not in (tmp_path / "manifest.json").read_text()


def test_a_text_model_given_several_columns_or_a_vectorizer_given_several_is_refused(
    tmp_path: Path,
) -> None:
    model = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(TEXTS["review"], LABELS)
    message = refusal(model, TEXTS.assign(other=TEXTS["review"]), tmp_path)
    assert message == (
        "Pipeline takes one text per row: the training rows must be its texts (one column), "
        "not 2 columns"
    )
    frame = TEXTS.assign(n=np.arange(30.0))
    columns = ColumnTransformer([("words", TfidfVectorizer(), "review")], remainder="passthrough")
    model = make_pipeline(columns, LogisticRegression()).fit(frame, LABELS)
    column = model[0].transformers_[0]
    model[0].transformers_[0] = (column[0], column[1], ["review"])
    assert refusal(model, frame, tmp_path).startswith(
        "TfidfVectorizer in the ColumnTransformer step 'words' reads ['review']: irisserve "
        "serves a text vectorizer that reads one column"
    )


@pytest.mark.parametrize(
    ("model", "what"),
    [
        (LinearRegression(), "LinearRegression predicts 2 values per row (shape (1, 2))"),
        (MultiOutputRegressor(LinearRegression()), "MultiOutputRegressor predicts 2 values"),
        (RandomForestClassifier(n_estimators=2), "a multi-output classifier (2 targets)"),
    ],
)
def test_a_multi_output_model_is_refused_with_a_sentence(
    tmp_path: Path, model: Any, what: str
) -> None:
    targets = np.c_[NUMBERS.sum(axis=1) > 0, NUMBERS[:, 0] > 0].astype(int)
    message = refusal(model.fit(NUMBERS, targets), NUMBERS, tmp_path)
    assert what in message
    assert "one target per model" in message


def test_a_column_target_is_refused_with_what_to_do(tmp_path: Path) -> None:
    model = LinearRegression().fit(NUMBERS, NUMBERS[:, :1])
    message = refusal(model, NUMBERS, tmp_path)
    assert "predicts 1 values per row (shape (1, 1))" in message
    assert "fit it on a 1-D target" in message


def test_the_manifest_records_a_second_library_a_step_needs(tmp_path: Path) -> None:
    model = make_pipeline(FunctionTransformer(scipy.stats.norm.cdf), LogisticRegression())
    model.fit(NUMBERS, NUMBERS[:, 0] > 0)
    manifest = write_artifact(model, NUMBERS, tmp_path, name="m", version="1")
    assert manifest.libraries["scipy"] == scipy.__version__
    assert read_manifest(tmp_path).libraries == manifest.libraries
    assert set(manifest.libraries) == {"python", "scikit-learn", "numpy", "joblib", "scipy"}


def test_a_plain_model_records_only_the_libraries_it_needs(tmp_path: Path) -> None:
    model = LogisticRegression().fit(NUMBERS, NUMBERS[:, 0] > 0)
    manifest = write_artifact(model, NUMBERS, tmp_path, name="m", version="1")
    assert set(manifest.libraries) == {"python", "scikit-learn", "numpy", "joblib"}


def test_a_module_of_the_users_own_is_found_but_has_no_version(tmp_path: Path) -> None:
    with local_module_model(tmp_path, "irisserve_own_steps") as fitted:
        assert "irisserve_own_steps" in modules(fitted.estimator)
        manifest = write_artifact(
            fitted.estimator, fitted.train, tmp_path / "out", name="m", version="1"
        )
    assert "irisserve_own_steps" not in manifest.libraries
