"""Shared checks for XGBoost and LightGBM exports: the library's own answers, bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np

from irisserve.scorers.contract import Scores
from irisserve.scorers.fast import export, load
from tests.helpers.scorer_checks import assert_batch_invariant, assert_like_sklearn, cells

#: Loads the export files in a folder with xgboost and lightgbm made unimportable, and
#: prints the answers of one row alone and of the folder's rows as one batch.
NO_LIBRARY_SCRIPT = """
import sys
sys.modules["xgboost"] = None
sys.modules["lightgbm"] = None
import json
from pathlib import Path
import numpy as np
from irisserve.scorers.fast import load
folder = Path(sys.argv[1])
scorer = load({name: (folder / name).read_bytes() for name in ("scorer.json", "scorer.npz")})
rows = np.load(folder / "rows.npy")
one, batch = scorer.score_rows([rows[0].tolist()]), scorer.score_rows(rows)
print(json.dumps([one.probabilities or one.values, np.asarray(batch.probabilities if
      batch.probabilities is not None else batch.values).tolist()]))
"""


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
