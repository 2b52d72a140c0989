"""Answer native bodies as the function answers each one sent alone. Pure: no Beam, no I/O.

A body is one row, ``{"features": [...]}`` or ``{"features": {name: value}}``: it is
validated by ``irisserve.schema`` as ``POST /predict`` validates it, the valid rows of a
batch are scored together by ``irisserve.protocols.scored`` and their answers are built by
``irisserve.protocols.predictions`` in one pass, each the object the function answers for
that row alone, so a row's answer (or error message) is the function's.
This module is the batch package's one coupling to the library's request path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from irisserve.artifact.model import Model
from irisserve.config import Settings
from irisserve.errors import InvalidInput
from irisserve.protocols.predictions import prediction_objects
from irisserve.protocols.scored import Scored, score
from irisserve.schema import Cell, parse_body
from irisserve.serving.errortable import error_status

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["Outcome", "Refusal", "answer_bodies", "rejected"]

#: Validated rows of a batch: lists, or a float64 array (a large all-numeric batch).
_Batch: TypeAlias = "list[list[Cell]] | npt.NDArray[np.float64]"


@dataclass(frozen=True)
class Refusal:
    """Why the function refuses a row: its error message and code."""

    error: str
    code: str


#: One row's fate: the function's answer to it (a dict), or its refusal.
Outcome: TypeAlias = "dict[str, Any] | Refusal"


def rejected(exc: InvalidInput) -> Refusal:
    """The error the function answers for ``exc``: its message and error code."""
    return Refusal(str(exc), error_status(exc)[1])


def _row(model: Model, body: Any, settings: Settings) -> list[Cell]:
    """The row of one native body, or the ``InvalidInput`` the function raises for it."""
    rows = parse_body(body, model.schema, settings.max_batch_rows)
    if not rows.single:
        raise InvalidInput(
            'a batch input line holds one row, {"features": ...}: put each of the "instances" '
            "on a line of its own"
        )
    row: list[Cell] = rows.data[0]
    return row


def _answers(model: Model, scored: Scored) -> list[dict[str, Any]]:
    """Each row's answer as the function writes it for that row alone (``predictions_payload``
    of one row: its object, then ``model_version``), built for the whole batch at once."""
    objects = prediction_objects(model, scored.predictions, scored.drift.warnings)
    version = model.version
    for answer in objects:
        answer["model_version"] = version
    return objects


def _score(model: Model, rows: _Batch, settings: Settings) -> Sequence[Outcome]:
    """Score ``rows`` in one batch; when a row's scores overflow, each row alone."""
    try:
        return _answers(model, score(model, rows, settings))
    except InvalidInput as exc:
        if len(rows) == 1:
            return [rejected(exc)]
    return [
        outcome
        for index in range(len(rows))
        for outcome in _score(model, rows[index : index + 1], settings)
    ]


def _one_row(body: Any) -> bool:
    """``{"features": row}``: a body whose row can join the whole-batch pass."""
    return type(body) is dict and len(body) == 1 and "features" in body


def _valid_rows(
    model: Model, bodies: Sequence[Any], settings: Settings
) -> tuple[list[Outcome | None], list[int], _Batch]:
    """Each body's error (``None`` if valid), the valid ones' indices, and their rows.

    The rows of ``{"features": ...}`` bodies are validated together by the schema's
    whole-batch pass; if any of them is refused, every body is validated alone, so each
    error is the message the function gives that body.
    """
    if all(map(_one_row, bodies)):
        try:
            rows = model.schema.parse_rows([body["features"] for body in bodies], "features")
            return [None] * len(bodies), list(range(len(bodies))), rows
        except InvalidInput:
            pass
    errors: list[Outcome | None] = []
    valid: list[int] = []
    alone: list[list[Cell]] = []
    for index, body in enumerate(bodies):
        try:
            alone.append(_row(model, body, settings))
        except InvalidInput as exc:
            errors.append(rejected(exc))
            continue
        errors.append(None)
        valid.append(index)
    return errors, valid, alone


def answer_bodies(model: Model, bodies: Sequence[Any], settings: Settings) -> list[Outcome]:
    """One outcome per body, in order: its answer, or why it cannot be scored."""
    outcomes, valid, rows = _valid_rows(model, bodies, settings)
    if valid:
        for index, outcome in zip(valid, _score(model, rows, settings), strict=True):
            outcomes[index] = outcome
    return [outcome for outcome in outcomes if outcome is not None]
