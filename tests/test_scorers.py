"""irisserve.scorers: export and load, refusing what is not exact or not well formed."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler

from irisserve.errors import ArtifactIntegrityError
from irisserve.scorers import JSON_NAME, NPZ_NAME, NotExportable, export, load
from irisserve.scorers._npz import write_npz
from tests.support import run_python

RNG = np.random.default_rng(17)
X = RNG.normal(size=(120, 3))
LABELS = (X[:, 0] > 0).astype(int)


@pytest.fixture(scope="module")
def forest_files() -> dict[str, bytes]:
    return export(
        RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, LABELS)
    )


@pytest.fixture(scope="module")
def linear_files() -> dict[str, bytes]:
    return export(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, LABELS))


def test_exports_are_json_and_a_plain_npz(forest_files: dict[str, bytes]) -> None:
    assert set(forest_files) == {JSON_NAME, NPZ_NAME}
    assert json.loads(forest_files[JSON_NAME])["format"] == "irisserve.scorer/1"
    with np.load(io.BytesIO(forest_files[NPZ_NAME]), allow_pickle=False) as arrays:
        assert arrays["threshold"].dtype == np.float64


def test_exporting_twice_gives_the_same_bytes(linear_files: dict[str, bytes]) -> None:
    again = export(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, LABELS))
    assert again == linear_files


@pytest.mark.parametrize(
    "estimator",
    [
        KNeighborsClassifier().fit(X, LABELS),
        make_pipeline(Normalizer(), LogisticRegression()).fit(X, LABELS),
    ],
    ids=["KNeighborsClassifier", "Normalizer"],
)
def test_an_estimator_without_an_exact_export_raises_not_exportable(estimator: Any) -> None:
    with pytest.raises(NotExportable, match="has no pickle-free export"):
        export(estimator)
    assert issubclass(NotExportable, ValueError)


def _json_change(files: dict[str, bytes], change: dict[str, Any]) -> dict[str, bytes]:
    document = json.loads(files[JSON_NAME])
    model = document["model"] | change.pop("model", {})
    return files | {JSON_NAME: json.dumps(document | change | {"model": model}).encode()}


def _arrays(files: dict[str, bytes], **changes: Any) -> dict[str, bytes]:
    with np.load(io.BytesIO(files[NPZ_NAME]), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return files | {NPZ_NAME: write_npz(arrays | changes)}


def test_garbled_or_tampered_exports_are_refused(
    forest_files: dict[str, bytes], linear_files: dict[str, bytes]
) -> None:
    npz = forest_files[NPZ_NAME]
    broken = [
        linear_files | {JSON_NAME: b"{not json"},
        linear_files | {JSON_NAME: linear_files[JSON_NAME][:-40]},
        _json_change(linear_files, {"format": "other/9"}),
        _json_change(linear_files, {"n_features": 4}),
        _json_change(linear_files, {"model": {"kind": "mystery"}}),
        _json_change(linear_files, {"model": {"coef": [[1.0, "2", 3.0]]}}),
        _json_change(linear_files, {"steps": [{"kind": "standard", "offset": [0.0]}]}),
        {JSON_NAME: forest_files[JSON_NAME]},
        forest_files | {NPZ_NAME: npz[: len(npz) // 2]},
        forest_files | {NPZ_NAME: b"PK" + bytes(100)},
        _arrays(forest_files, threshold=np.zeros(3, dtype=np.float32)),
        _arrays(forest_files, left=np.full(15, 0, dtype="<i4")),
        _arrays(forest_files, feature=np.full(15, 7, dtype="<i4")),
        _arrays(forest_files, extra=np.zeros(2)),
        _arrays(forest_files, values=np.zeros((2, 2))),
    ]
    for files in broken:
        with pytest.raises(ArtifactIntegrityError, match="pickle-free export is malformed"):
            load(files)


def test_an_npz_holding_a_pickle_is_refused(forest_files: dict[str, bytes]) -> None:
    with np.load(io.BytesIO(forest_files[NPZ_NAME])) as npz:
        arrays = {name: npz[name] for name in npz.files}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays | {"values": np.array([{}], dtype=object)})  # a pickled array
    with pytest.raises(ArtifactIntegrityError, match="dtype"):
        load(forest_files | {NPZ_NAME: buffer.getvalue()})


def test_no_rows_score_to_no_answers(forest_files: dict[str, bytes]) -> None:
    scorer = load(forest_files)
    assert scorer.score_rows([]).labels == []
    assert scorer.score_rows(np.zeros((0, 3))).probabilities == []


def test_a_single_row_is_loaded_and_scored_without_numpy(
    tmp_path: Any, forest_files: dict[str, bytes]
) -> None:
    for name, data in forest_files.items():
        (tmp_path / name).write_bytes(data)
    script = f"""
import sys
from pathlib import Path
from irisserve.scorers import load
folder = Path({str(tmp_path)!r})
scorer = load({{p.name: p.read_bytes() for p in folder.iterdir()}})
print(scorer.score_rows([[0.5, -1.0, 2.0]]).labels, "numpy" in sys.modules)
"""
    assert run_python(script).split()[-1] == "False"
