"""Refuse, with a sentence, the estimators irisserve cannot serve yet: text and many outputs.

irisserve serves rows of numeric and categorical columns and one target. A text
vectorizer (``CountVectorizer``, ``TfidfVectorizer``, ``HashingVectorizer``) takes free
text: as the model's whole input (one string per row) or as a ``ColumnTransformer``
column, which the schema would otherwise describe as a category holding every training
text. A multi-output estimator answers several targets per row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from irisserve.packaging.errors import PackagingError

__all__ = ["check_outputs", "check_text"]

_TEXT_FIX = "turn the text into numeric columns before the model (and send those), or leave it out"


def _vectorizers(node: Any) -> Iterator[Any]:
    """Every text vectorizer in ``node``, through pipelines, unions and column transformers."""
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer

    if isinstance(node, CountVectorizer | HashingVectorizer):
        yield node
    children = [step for _, step in getattr(node, "steps", None) or ()]
    children += [part for _, part in getattr(node, "transformer_list", None) or ()]
    children += [trans for _, trans, _ in _transformers(node)]
    for child in children:
        yield from _vectorizers(child)


def _transformers(node: Any) -> list[tuple[str, Any, Any]]:
    """A column transformer's (name, transformer, columns), fitted ones if fitted."""
    from sklearn.compose import ColumnTransformer

    if not isinstance(node, ColumnTransformer):
        return []
    return list(getattr(node, "transformers_", None) or node.transformers)


def _column_text(node: Any) -> Iterator[tuple[str, Any, Any]]:
    """(step name, vectorizer, columns) for each column transformer step that vectorizes."""
    for name, trans, columns in _transformers(node):
        for vectorizer in _vectorizers(trans):
            yield name, vectorizer, columns
    for _, step in getattr(node, "steps", None) or ():
        yield from _column_text(step)
    for _, part in getattr(node, "transformer_list", None) or ():
        yield from _column_text(part)


def check_text(estimator: Any) -> None:
    """Refuse an estimator that takes free text, as its whole input or in a column."""
    for name, vectorizer, columns in _column_text(estimator):
        raise PackagingError(
            f"column {columns!r} is free text ({type(vectorizer).__name__} in the "
            f"ColumnTransformer step {name!r}): text columns are not served yet (irisserve "
            f"would describe the column as a category holding every training text); "
            f"{_TEXT_FIX}"
        )
    for vectorizer in _vectorizers(estimator):
        raise PackagingError(
            f"{type(estimator).__name__} takes one text per row ({type(vectorizer).__name__}): "
            f"text input is not served yet; irisserve serves rows of numeric and categorical "
            f"columns: {_TEXT_FIX}"
        )


def check_outputs(estimator: Any, rows: Any) -> None:
    """Refuse an estimator that answers more than one target per row (tried on ``rows[:1]``)."""
    import numpy as np

    classes = getattr(estimator, "classes_", None)
    if isinstance(classes, list):
        raise PackagingError(
            f"{type(estimator).__name__} is a multi-output classifier ({len(classes)} targets): "
            "irisserve serves one target per model; package one classifier per target"
        )
    shape = np.shape(estimator.predict(rows[:1]))
    if len(shape) > 1:
        per_row = int(np.prod(shape[1:]))
        raise PackagingError(
            f"{type(estimator).__name__} predicts {per_row} values per row (shape {shape}): "
            "multi-output models are not served yet; irisserve serves one target per model: "
            "package one model per target"
            + (" (or fit it on a 1-D target)" if per_row == 1 else "")
        )
