"""Shared checks for XGBoost and LightGBM exports: the library's own answers, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from irisserve.scorers.contract import Scores
from irisserve.scorers.fast import NotExportable, export, load
from tests.helpers.scorer_checks import assert_batch_invariant, assert_like_sklearn, cells, per_row
from tests.helpers.support import run_python

#: Loads the export files in a folder with xgboost and lightgbm made unimportable, and
#: prints a classifier's answers to one row alone (``row.json``) and to the folder's rows
#: as one batch (``rows.npy``), and whether the one row needed numpy.
NO_LIBRARY_SCRIPT = """
import sys
sys.modules["xgboost"] = None
sys.modules["lightgbm"] = None
import json
from pathlib import Path
from irisserve.scorers.fast import load
folder = Path(sys.argv[1])
scorer = load({name: (folder / name).read_bytes() for name in ("scorer.json", "scorer.npz")})
one = scorer.score_rows([json.loads((folder / "row.json").read_text())])
numpy_for_one_row = "numpy" in sys.modules
import numpy as np
batch = scorer.score_rows(np.load(folder / "rows.npy"))
print(json.dumps([one.probabilities, batch.probabilities.tolist(), numpy_for_one_row]))
"""


def assert_served_without_the_library(model: Any, folder: Path, rows: Any) -> None:
    """The export, in a fresh interpreter where the library cannot be imported, answers one
    row (without numpy) and a batch as the library does."""
    for name, data in export(model).items():
        (folder / name).write_bytes(data)
    (folder / "row.json").write_text(json.dumps(cells(rows[:1])[0]))
    np.save(folder / "rows.npy", rows)
    one, batch, numpy_for_one_row = json.loads(run_python(NO_LIBRARY_SCRIPT, str(folder)))
    expected = np.asarray(model.predict_proba(rows), dtype=np.float64)
    assert one == expected[:1].tolist()
    assert batch == expected.tolist()
    assert not numpy_for_one_row


def assert_identical(model: Any, scores: Scores, table: Any) -> None:
    """Labels equal to ``predict`` and every score equal to the library's, bit for bit."""
    if scores.labels is not None:
        assert np.array_equal(model.classes_[np.asarray(scores.labels)], model.predict(table))
    if scores.probabilities is not None:
        expected = np.asarray(model.predict_proba(table), dtype=np.float64)
        assert np.array_equal(np.asarray(scores.probabilities), expected)
    else:
        expected = np.asarray(model.predict(table), dtype=np.float64)
        assert np.array_equal(np.asarray(scores.values), expected)


def assert_served_exactly(model: Any, table: Any, *, numeric: bool = True) -> Scores:
    """Export and load, then: batch-invariant, bit-identical to the library, and within
    the packaging check's tolerance."""
    scorer = load(export(model))
    array = np.asarray(table, dtype=np.float64) if numeric else None
    scores = assert_batch_invariant(scorer, cells(table), array)
    assert_identical(model, scores, table)
    assert_like_sklearn(model, scores, table)
    return scores


def assert_inner_covers_add_up(files: dict[str, bytes], covers: Any, rtol: float) -> None:
    """Each inner node's cover is its children's (so the covers follow the node order)."""
    import io

    with np.load(io.BytesIO(files["scorer.npz"])) as arrays:
        left, right = arrays["left"], arrays["right"]
    assert covers.shape == left.shape
    inner = left >= 0
    assert inner.any()
    np.testing.assert_allclose(covers[inner], covers[left[inner]] + covers[right[inner]], rtol=rtol)


def categorical_table(rng: Any, n: int, categories: int) -> Any:
    """Two numeric features and a third of categories ``0..categories-1``, a tenth missing."""
    table = rng.normal(size=(n, 3))
    table[:, 2] = rng.integers(0, categories, n)
    table[rng.random(n) < 0.1, 2] = np.nan
    return table


def unseen_category_rows(rng: Any) -> Any:
    """300 rows of ``categorical_table`` with categories 8..11 unseen in training and the
    first 20 rows' category negative (-1)."""
    rows = categorical_table(rng, 300, 12)
    rows[:20, 2] = -1.0
    return rows


def categories_above_255(rng: Any) -> Any:
    """500 rows of ``categorical_table`` whose categories are 250..261."""
    table = categorical_table(rng, 500, 8)
    table[:, 2] = rng.integers(250, 262, 500)
    return table


def assert_walks_like_the_library(model: Any, scorer: Any, rows: list[list[float]]) -> None:
    """Each row alone answers as in the batch, and the batch as the library does."""
    table = np.array(rows)
    alone = [per_row(scorer.score_rows([row]))[0] for row in cells(table)]
    batch = scorer.score_rows(table)
    assert repr(alone) == repr(per_row(batch))
    assert_identical(model, batch, table)


def assert_same_anywhere_in_any_batch(scorer: Any, table: Any, size: int, rng: Any) -> None:
    """Row 7 of ``table`` answers the same alone and at three places in batches of ``size``."""
    rows = cells(table)
    expected = per_row(scorer.score_rows([rows[7]]))[0]
    for place in rng.integers(0, size, 3):
        batch = [rows[i] for i in rng.integers(0, len(rows), size)]
        batch[place] = rows[7]
        assert repr(per_row(scorer.score_rows(batch))[place]) == repr(expected)


def assert_pipeline_with_one_hot_columns_served(
    classifier: Any, features: Any, classes: Any, rng: Any
) -> None:
    """A scaler on two numeric columns and one-hot colours in front of ``classifier``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    table = np.empty((400, 3), dtype=object)
    table[:, 0], table[:, 1] = features[:, 1], features[:, 2]
    table[:, 2] = rng.choice(["red", "green", "blue"], 400)
    front = ColumnTransformer([("n", StandardScaler(), [0, 1]), ("c", OneHotEncoder(), [2])])
    pipeline = make_pipeline(front, classifier)
    pipeline.fit(table, classes + (table[:, 2] == "red"))
    assert_served_exactly(pipeline, table[:200], numeric=False)


def assert_refused(make: Any, message: str, library: str) -> None:
    """Exporting what ``make`` fits is refused with ``message``, pointing to the library."""
    with pytest.raises(NotExportable, match=message) as refused:
        export(make())
    assert f"serve it through {library} itself" in str(refused.value)
