"""Pickle-free exports of scikit-learn models, and scorers that need no scikit-learn.

``export(estimator)`` turns a fitted pipeline or model into files (``scorer.json``, and
``scorer.npz`` for trees) or raises ``NotExportable`` saying why; ``load(files)`` reads
them back — JSON and numpy arrays only, nothing that can run code — into a scorer whose
``score_rows`` answers like the estimator: a few rows in pure Python, larger batches with
numpy, performing the same IEEE operations in the same order either way.
"""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from irisserve.errors import ArtifactIntegrityError
from irisserve.model import PURE_PYTHON_ROWS
from irisserve.scorers._forest import NODE_ARRAYS, Forest
from irisserve.scorers._npz import read_npz, write_npz
from irisserve.scorers._ops import BatchOps, RowOps
from irisserve.scorers._spec import Malformed, NotExportable, need
from irisserve.scorers.hist import export_hist
from irisserve.scorers.linear import Linear, export_linear, load_linear
from irisserve.scorers.output import Output, Scores
from irisserve.scorers.preprocessing import Step, export_steps, load_steps, run
from irisserve.scorers.trees import Boosting, Trees, export_trees, load_model

__all__ = ["JSON_NAME", "NPZ_NAME", "FastScorer", "NotExportable", "Scores", "export", "load"]

JSON_NAME = "scorer.json"
NPZ_NAME = "scorer.npz"
_FORMAT = "irisserve.scorer/1"
_HIST = {"HistGradientBoostingClassifier", "HistGradientBoostingRegressor"}
_CODES = {"<f8": "d", "<i4": "i", "<u4": "I", "|u1": "B"}


@dataclass(frozen=True)
class FastScorer:
    """Preprocessing steps, then a model, over rows of ``width`` cells."""

    width: int
    steps: list[Step]
    model: Linear | Trees | Boosting

    def score_rows(self, rows: Sequence[Sequence[Any]] | Any) -> Scores:
        """Score validated rows (lists of cells, or a float64 array with NaN for missing)."""
        if isinstance(rows, list) and 0 < len(rows) <= PURE_PYTHON_ROWS:
            ops = RowOps()
            return _row_scores(
                [self.model.predict(run(list(r), self.steps, ops), ops) for r in rows]
            )
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
            return _batch_scores(self.model.predict(run(columns, self.steps, batch), batch))


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
    import numpy as np

    def matrix(columns: list[Any] | None) -> list[list[float]] | None:
        return None if columns is None else np.column_stack(columns).tolist()

    return Scores(
        labels=None if output.labels is None else output.labels.tolist(),
        probabilities=matrix(output.probabilities),
        decision=matrix(output.decision),
        values=None if output.values is None else output.values.tolist(),
    )


def export(estimator: Any) -> dict[str, bytes]:
    """The export files of a fitted estimator or pipeline; ``NotExportable`` if none."""
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


def _forest(files: dict[str, bytes], spec: dict[str, Any], width: int) -> Forest:
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
        steps, out_width = load_steps(document["steps"], width)
        spec = document["model"]
        need(isinstance(spec, dict), "model must be an object")
        model: Linear | Trees | Boosting
        if spec.get("kind") == "linear":
            model = load_linear(spec, out_width)
        elif spec.get("kind") in ("trees", "boosting"):
            model = load_model(spec, _forest(files, spec, out_width))
        else:
            raise Malformed(f"unknown model kind {spec.get('kind')!r}")
    except (KeyError, TypeError, ValueError, IndexError, zipfile.BadZipFile, struct.error) as exc:
        raise ArtifactIntegrityError(f"the pickle-free export is malformed: {exc}") from exc
    except SyntaxError as exc:  # an .npy header that is not a literal
        raise ArtifactIntegrityError(f"the pickle-free export is malformed: {exc}") from exc
    return FastScorer(width, steps, model)
