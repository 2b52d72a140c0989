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
from irisserve.scorers._npz import write_npz
from irisserve.scorers.contract import Scores
from irisserve.scorers.fast import JSON_NAME, NPZ_NAME, NotExportable, export, load
from tests.helpers.support import run_python

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


def _nodes_changed(files: dict[str, bytes], **changes: dict[int, Any]) -> dict[str, bytes]:
    """The export with some node array entries changed (``name={index: value}``)."""
    with np.load(io.BytesIO(files[NPZ_NAME]), allow_pickle=False) as npz:
        arrays = {name: npz[name].copy() for name in changes}
    for name, entries in changes.items():
        for index, value in entries.items():
            arrays[name][index] = value
    return _arrays(files, **arrays)


#: The fixture's forest: 13 nodes, roots 0, 7 and 10; node 0 splits into 1 and 4, node 1
#: into leaves 2 and 3; 3 features, no categorical split.
MALFORMED_NODES = {
    "a leaf with one child": ({"right": {2: 3}}, "two children after it"),
    "a leaf with a child before it": ({"left": {3: 0}, "right": {3: 0}}, "two children"),
    "an inner node with one child": ({"right": {1: -1}}, "two children after it"),
    "an inner node looping to itself": ({"left": {1: 1}, "right": {1: 1}}, "two children"),
    "a child before its parent": ({"right": {4: 0}}, "two children after it"),
    "a child out of range": ({"right": {0: 13}}, "child is out of range"),
    "a root out of range": ({"roots": {1: 13}}, "root is out of range"),
    "a negative root": ({"roots": {1: -1}}, "root is out of range"),
    "a feature out of range": ({"feature": {0: 3}}, "feature is out of range"),
    "a negative feature": ({"feature": {1: -1}}, "feature is out of range"),
    "a split on a bitset that is not there": ({"category": {0: 0}}, "bitset is out of range"),
    "a known_index out of range": ({"known_index": {0: 1}}, "bad known_index"),
}


@pytest.mark.parametrize(("changes", "reason"), MALFORMED_NODES.values(), ids=MALFORMED_NODES)
def test_node_arrays_a_walk_cannot_follow_are_refused(
    forest_files: dict[str, bytes], changes: dict[str, dict[int, Any]], reason: str
) -> None:
    with pytest.raises(ArtifactIntegrityError, match=reason):
        load(_nodes_changed(forest_files, **changes))


def test_malformed_categorical_arrays_are_refused(forest_files: dict[str, bytes]) -> None:
    bitset = np.zeros((1, 8), dtype="<u4")
    categorical = _nodes_changed(forest_files, category={0: 0})
    cases = [
        (_arrays(categorical, left_bitsets=bitset), "categorical split without categories"),
        (_arrays(forest_files, left_bitsets=np.zeros((1, 4), "<u4")), "8 words per row"),
        (_arrays(forest_files, known_index=np.full(2, -1, "<i4")), "one per feature"),
        (_arrays(forest_files, roots=np.zeros(0, "<i4")), "at least one tree"),
    ]
    for files, reason in cases:
        with pytest.raises(ArtifactIntegrityError, match=reason):
            load(files)
    known = np.full(3, -1, dtype="<i4")
    known[2] = 0  # node 0 splits feature 2: with its known categories, the export is sound
    load(_arrays(categorical, left_bitsets=bitset, known_bitsets=bitset, known_index=known))


def test_a_categorical_split_sends_each_category_its_way(forest_files: dict[str, bytes]) -> None:
    """Node 0 (feature 2) made categorical: category 0 in its left bitset, 1 known but not
    in it (right), anything else, negative, too large or missing the missing-value way
    (left at node 0); one row alone walks as the numpy batch does."""
    left_bitset, known_bitset = np.zeros((1, 8), dtype="<u4"), np.zeros((1, 8), dtype="<u4")
    left_bitset[0, 0], known_bitset[0, 0] = 0b01, 0b11
    known = np.array([-1, -1, 0], dtype="<i4")
    files = _nodes_changed(forest_files, category={0: 0})
    files = _arrays(files, left_bitsets=left_bitset, known_bitsets=known_bitset, known_index=known)
    scorer = load(files)
    forest = scorer.model.forest  # type: ignore[union-attr]
    subtree = {}
    for category in (0.0, 1.0, 2.0, 40.0, -1.0, 300.0, np.nan):
        leaf = forest.leaves([0.5, -1.0, category])[0]  # tree 0: left subtree 1-3, right 4-6
        subtree[category] = "left" if leaf < 4 else "right"
    assert subtree.pop(1.0) == "right"
    assert set(subtree.values()) == {"left"}
    rows = [[0.5, -1.0, c] for c in (0.0, 1.0, 2.0, 40.0, -1.0, 300.0, np.nan)] * 2
    alone = [scorer.score_rows([row]).probabilities for row in rows]
    batch = scorer.score_rows(np.array(rows)).probabilities
    assert batch is not None
    assert [a[0] for a in alone] == batch.tolist()


def test_an_npz_holding_a_pickle_is_refused(forest_files: dict[str, bytes]) -> None:
    with np.load(io.BytesIO(forest_files[NPZ_NAME])) as npz:
        arrays = {name: npz[name] for name in npz.files}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays | {"values": np.array([{}], dtype=object)})  # a pickled array
    with pytest.raises(ArtifactIntegrityError, match="dtype"):
        load(forest_files | {NPZ_NAME: buffer.getvalue()})


def test_no_rows_score_to_no_answers(forest_files: dict[str, bytes]) -> None:
    scorer = load(forest_files)
    assert scorer.score_rows([]) == Scores(labels=[], probabilities=[])
    assert scorer.score_rows(np.zeros((0, 3))) == Scores(labels=[], probabilities=[])


#: Loads a folder's export, scores one row, and prints the scorer modules then imported,
#: then whether numpy was.
_LOAD_ONE_ROW = """
import sys
from pathlib import Path
from irisserve.scorers.fast import load
scorer = load({p.name: p.read_bytes() for p in Path(sys.argv[1]).iterdir()})
scorer.score_rows([[0.5, -1.0, 2.0]])
print(*sorted(m for m in sys.modules if m.startswith("irisserve.scorers")), "numpy" in sys.modules)
"""


def _modules_for_one_row(folder: Any, files: dict[str, bytes]) -> list[str]:
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return run_python(_LOAD_ONE_ROW, str(folder)).split()


def test_a_single_row_is_loaded_and_scored_without_numpy(
    tmp_path: Any, forest_files: dict[str, bytes]
) -> None:
    *modules, numpy = _modules_for_one_row(tmp_path, forest_files)
    assert numpy == "False"
    every_kind = {"scorers", "fast", "contract", "_ops", "_spec", "output"}
    trees = {"trees", "_link", "_forest", "_npz"}  # no preprocessing, linear or hist
    assert {m.rsplit(".", 1)[-1] for m in modules} == every_kind | trees


def test_a_linear_model_imports_no_tree_module(
    tmp_path: Any, linear_files: dict[str, bytes]
) -> None:
    *modules, numpy = _modules_for_one_row(tmp_path, linear_files)
    assert numpy == "False"
    every_kind = {"scorers", "fast", "contract", "_ops", "_spec", "output"}
    linear = {"preprocessing", "linear", "_link"}  # its scaler, itself; no tree module
    assert {m.rsplit(".", 1)[-1] for m in modules} == every_kind | linear
