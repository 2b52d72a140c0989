"""Pickle-free exports of scikit-learn models, and scorers that need no scikit-learn.

``export(estimator)`` turns a fitted pipeline or model into files (``scorer.json``, and
``scorer.npz`` for trees) or raises ``NotExportable`` saying why; ``load(files)`` reads
them back — JSON and numpy arrays only, nothing that can run code — into a scorer whose
``score_rows`` answers like the estimator: a few rows in pure Python, larger batches with
numpy, performing the same IEEE operations in the same order either way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from irisserve.errors import ArtifactIntegrityError
from irisserve.schema import PURE_PYTHON_ROWS
from irisserve.scorers._ops import BatchOps, Column, RowOps
from irisserve.scorers._spec import Malformed, NotExportable, need
from irisserve.scorers.contract import Scores
from irisserve.scorers.output import Output

if TYPE_CHECKING:  # each model kind imports its own modules when it is loaded
    from irisserve.scorers._forest import Forest
    from irisserve.scorers.linear import Linear
    from irisserve.scorers.preprocessing import Step
    from irisserve.scorers.trees import Boosting, Trees

__all__ = ["JSON_NAME", "NPZ_NAME", "FastScorer", "NotExportable", "export", "load"]

JSON_NAME = "scorer.json"
NPZ_NAME = "scorer.npz"
_FORMAT = "irisserve.scorer/1"
_HIST = {"HistGradientBoostingClassifier", "HistGradientBoostingRegressor"}
_CODES = {"<f8": "d", "<i4": "i", "<u4": "I", "|u1": "B"}


class FastScorer:
    """Preprocessing steps, then a model, over rows of ``width`` cells."""

    def __init__(self, width: int, steps: list[Step], model: Linear | Trees | Boosting) -> None:
        self.width, self.steps, self.model = width, steps, model

    def _predict(self, columns: list[Column], ops: Any) -> Output:
        for step in self.steps:
            columns = step.apply(columns, ops)
        return self.model.predict(columns, ops)

    def score_rows(self, rows: Sequence[Sequence[Any]] | Any) -> Scores:
        """Score validated rows (lists of cells, or a float64 array with NaN for missing)."""
        if isinstance(rows, list) and 0 < len(rows) <= PURE_PYTHON_ROWS:
            ops = RowOps()
            return _row_scores([self._predict(list(r), ops) for r in rows])
        n_rows = len(rows)
        batch = BatchOps(n_rows)
        if isinstance(rows, list):
            columns: list[Any] = [list(c) for c in zip(*rows, strict=True)] if rows else []
            columns = columns or [[] for _ in range(self.width)]
        else:
            array: Any = rows
            columns = list(batch.np.ascontiguousarray(array.T, dtype=batch.np.float64))
        # Overflowing scores come out non-finite, silently: the model layer refuses those rows.
        with batch.np.errstate(all="ignore"):
            return _batch_scores(self._predict(columns, batch))


def _row_scores(outputs: list[Output]) -> Scores:
    first = outputs[0]
    return Scores(
        labels=None if first.labels is None else [int(o.labels) for o in outputs],
        probabilities=None
        if first.probabilities is None
        else [[float(p) for p in o.probabilities or ()] for o in outputs],
        decision=None
        if first.decision is None
        else [[float(d) for d in o.decision or ()] for o in outputs],
        values=None if first.values is None else [float(o.values) for o in outputs],
    )


def _batch_scores(output: Output) -> Scores:
    """A batch's columns as the contract's arrays: int64 labels, float64 scores, C order."""
    import numpy as np

    def array(column: Any, dtype: type) -> Any:
        return None if column is None else np.ascontiguousarray(column, dtype=dtype)

    def matrix(columns: list[Any] | None) -> Any:
        return None if columns is None else array(np.column_stack(columns), np.float64)

    return Scores(
        labels=array(output.labels, np.int64),
        probabilities=matrix(output.probabilities),
        decision=matrix(output.decision),
        values=array(output.values, np.float64),
    )


def export(estimator: Any) -> dict[str, bytes]:
    """The export files of a fitted estimator or pipeline; ``NotExportable`` if none."""
    from irisserve.scorers._npz import write_npz
    from irisserve.scorers.boosters import export_booster
    from irisserve.scorers.hist import export_hist
    from irisserve.scorers.linear import export_linear
    from irisserve.scorers.preprocessing import export_steps
    from irisserve.scorers.trees import export_trees

    steps: list[dict[str, Any]] = []
    model = estimator
    if type(estimator).__name__ == "Pipeline":
        for _, step in estimator.steps[:-1]:
            if step not in (None, "passthrough"):
                steps += export_steps(step)
        model = estimator.steps[-1][1]
    name = type(model).__name__
    arrays = None
    if name in _HIST:
        encoding, spec, arrays = export_hist(model)
        steps += encoding
    elif (linear := export_linear(model)) is not None:
        spec = linear
    elif (trees := export_trees(model)) is not None:
        spec, arrays = trees
    elif (boosted := export_booster(model)) is not None:
        spec, arrays = boosted
    else:
        raise NotExportable(f"{name} has no pickle-free export")
    document = {"format": _FORMAT, "n_features": int(estimator.n_features_in_)}
    document |= {"steps": steps, "model": spec}
    try:
        text = json.dumps(document, sort_keys=True, indent=1, allow_nan=False)
    except ValueError as exc:
        raise NotExportable(f"{name}: a parameter is not finite") from exc
    files = {JSON_NAME: text.encode() + b"\n"}
    if arrays is not None:
        files[NPZ_NAME] = write_npz(arrays)
    try:
        load(files)
    except ArtifactIntegrityError as exc:
        raise NotExportable(f"{name}: {exc}") from exc
    return files


def _read_forest(files: dict[str, bytes], spec: dict[str, Any], width: int) -> Forest:
    from irisserve.scorers._forest import NODE_ARRAYS, Forest
    from irisserve.scorers._npz import read_npz

    need(NPZ_NAME in files, f"{NPZ_NAME} is missing")
    arrays = read_npz(files[NPZ_NAME])
    need(set(arrays) == set(NODE_ARRAYS) | {"values"}, f"{NPZ_NAME} holds other arrays")
    for name, array in arrays.items():
        need(array.flat.format == _CODES[NODE_ARRAYS.get(name, "<f8")], f"{name}: wrong dtype")
    float32 = spec["float32"] if spec["kind"] == "boosting" else True
    need(type(float32) is bool, "float32 must be true or false")
    return Forest(arrays, width, float32)


def load(files: dict[str, bytes]) -> FastScorer:
    """A scorer from export files; ``ArtifactIntegrityError`` if they are malformed."""
    try:
        document = json.loads(files[JSON_NAME])
        need(isinstance(document, dict), "the document must be an object")
        need(document.get("format") == _FORMAT, f"unknown format {document.get('format')!r}")
        width = document["n_features"]
        need(type(width) is int and width >= 1, "n_features must be a positive integer")
        steps: list[Step] = []
        out_width = width
        if document["steps"] != []:
            from irisserve.scorers.preprocessing import load_steps

            steps, out_width = load_steps(document["steps"], width)
        spec = document["model"]
        need(isinstance(spec, dict), "model must be an object")
        model: Linear | Trees | Boosting
        if spec.get("kind") == "linear":
            from irisserve.scorers.linear import load_linear

            model = load_linear(spec, out_width)
        elif spec.get("kind") in ("trees", "boosting"):
            from irisserve.scorers.trees import load_model

            model = load_model(spec, _read_forest(files, spec, out_width))
        else:
            raise Malformed(f"unknown model kind {spec.get('kind')!r}")
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ArtifactIntegrityError(f"the pickle-free export is malformed: {exc}") from exc
    return FastScorer(width, steps, model)
