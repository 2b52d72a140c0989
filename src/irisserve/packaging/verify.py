"""Verifying an artifact folder before it is written: does it answer like its estimator?

Every backend whose file the folder holds is opened through the serving code and scores the
training rows as validation hands them over (lists, a float64 array, rows alone): labels
must be equal and scores within ``TOLERANCE`` of the estimator's own answers, on the scale
``irisserve.packaging.tolerance`` gives each output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from irisserve.artifact.folder import open_artifact
from irisserve.artifact.manifest import CLASSIFICATION, Task
from irisserve.artifact.model import Model
from irisserve.errors import InvalidInput
from irisserve.packaging.errors import PackagingError
from irisserve.packaging.tolerance import TOLERANCE, difference
from irisserve.schema import Cell
from irisserve.scorers.contract import Scores, as_list

__all__ = ["TOLERANCE", "agreement", "expected_scores", "verify_backends"]

#: Rows also scored one at a time, to check that a row's answer does not depend on its batch.
SINGLE_ROWS = 32


def expected_scores(estimator: Any, data: Any, target: Task) -> Scores:
    """What the estimator itself answers on the training DataFrame."""
    import numpy as np

    predicted = estimator.predict(data)
    if target.type != CLASSIFICATION:
        return Scores(values=np.asarray(predicted, dtype=np.float64).tolist())
    labels = np.searchsorted(estimator.classes_, predicted).tolist()
    if target.scores is None:
        return Scores(labels=labels)
    scores = np.asarray(getattr(estimator, target.scores)(data), dtype=np.float64)
    column = scores.reshape(len(data), -1).tolist()
    if target.scores == "predict_proba":
        return Scores(labels=labels, probabilities=column)
    return Scores(labels=labels, decision=column)


def agreement(expected: Scores, served: Scores, magnitude: Any = None) -> dict[str, Any]:
    """How far ``served`` is from ``expected``: label mismatches, and the largest difference
    as a fraction of its scale (``magnitude``: each row's, for a linear model)."""
    import numpy as np

    mismatched = [
        i for i, (a, b) in enumerate(zip(_labels(expected), _labels(served), strict=True)) if a != b
    ]
    worst = 0.0
    for name in ("probabilities", "decision", "values"):
        want, got = getattr(expected, name), getattr(served, name)
        if (want is None) != (got is None):
            raise PackagingError(f"the served model answers {name} where the estimator does not")
        if want is None:
            continue
        a, b = np.asarray(want, dtype=np.float64), np.asarray(got, dtype=np.float64)
        if a.shape != b.shape:
            raise PackagingError(f"served {name} have shape {b.shape}, expected {a.shape}")
        worst = max(worst, difference(name, b, a, magnitude))
    return {
        "rows_checked": len(expected),
        "labels_mismatched": len(mismatched),
        "first_mismatch": mismatched[0] if mismatched else None,
        "max_difference": worst,
    }


def _labels(scores: Scores) -> list[int]:
    return [] if scores.labels is None else as_list(scores.labels)


def _refuse_disagreement(found: dict[str, Any], what: str) -> None:
    problems = []
    if found["labels_mismatched"]:
        problems.append(
            f"labels differ on {found['labels_mismatched']} of {found['rows_checked']} rows "
            f"(first: row {found['first_mismatch']})"
        )
    if not found["max_difference"] <= TOLERANCE:
        problems.append(
            f"scores differ by up to {found['max_difference']:.3g} of their scale "
            f"(tolerance {TOLERANCE:g})"
        )
    if problems:
        raise PackagingError(
            f"{what} does not answer what the estimator answers: " + "; ".join(problems)
        )


def _served(model: Model, rows: list[list[Cell]]) -> Scores:
    """The rows scored as validation hands them over: lists, and for an all-numeric schema
    a float64 array too; a few of them also one at a time. Every form must agree."""
    import numpy as np

    scored = model.predict_rows(rows)
    forms = {}
    if model.schema.all_numeric:
        nan = float("nan")
        array = np.array([[nan if v is None else v for v in row] for row in rows], np.float64)
        forms["as a float64 array"] = (scored, model.predict_rows(array))
    for i, row in enumerate(rows[:SINGLE_ROWS]):
        forms[f"row {i} alone"] = (_take(scored, i), model.predict_rows([row]))
    for what, (batch, other) in forms.items():
        _refuse_disagreement(agreement(batch, other), f"the served model, {what},")
    return scored


def _take(scores: Scores, i: int) -> Scores:
    """Row ``i`` of ``scores``, as a batch of one."""
    return Scores(
        **{
            name: None if column is None else column[i : i + 1]
            for name, column in vars(scores).items()
        }
    )


def verify_backends(
    folder: Path,
    expected: Scores,
    rows: list[list[Cell]],
    backends: list[str],
    magnitude: Any = None,
) -> None:
    """Refuse the folder unless every one of ``backends`` answers ``expected`` on ``rows``
    (``magnitude``: ``irisserve.packaging.tolerance.magnitudes`` of the rows)."""
    for backend in backends:
        model = open_artifact(folder, backend)
        try:
            parsed = [
                model.schema.parse_row(row, f"training row {i}") for i, row in enumerate(rows)
            ]
        except InvalidInput as exc:
            raise PackagingError(f"the input schema refuses a training row: {exc}") from exc
        served = _served(model, parsed)
        _refuse_disagreement(agreement(expected, served, magnitude), f"the {backend} scorer")
