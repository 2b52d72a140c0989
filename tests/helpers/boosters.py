"""Shared checks for XGBoost and LightGBM exports: the library's own answers, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from irisserve.scorers.contract import Scores
from irisserve.scorers.fast import export, load
from tests.helpers.scorer_checks import assert_batch_invariant, assert_like_sklearn, cells
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
