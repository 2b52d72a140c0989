"""Text input: which columns a text vectorizer reads, and a one-text-per-row model as a
one-column one.

A text vectorizer (``CountVectorizer``, ``TfidfVectorizer``, ``HashingVectorizer``) reads
free text, described by the schema as a ``text`` feature (any string; no categories, so no
training text in the manifest). In a ``ColumnTransformer`` it reads one column, named or
by position. Outside one (``make_pipeline(TfidfVectorizer(), LogisticRegression())``) the
model takes one text per row, a 1-D input; packaging serves it as a pipeline of one
column named ``text`` (``TEXT_COLUMN``): the same steps behind a ``FunctionTransformer``
(``numpy.ravel``) that turns that column into the texts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from irisserve.packaging.errors import PackagingError

__all__ = ["TEXT_COLUMN", "one_column", "text_columns", "vectorizer_of_rows"]

#: The one feature of a model that takes one text per row.
TEXT_COLUMN = "text"


def _is_vectorizer(node: Any) -> bool:
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer

    return isinstance(node, CountVectorizer | HashingVectorizer)


def _children(node: Any) -> list[Any]:
    """A pipeline's steps and a union's parts (not a column transformer's)."""
    children = [step for _, step in getattr(node, "steps", None) or ()]
    return children + [part for _, part in getattr(node, "transformer_list", None) or ()]


def _transformers(node: Any) -> list[tuple[str, Any, Any]]:
    """A column transformer's (name, transformer, columns), fitted ones if fitted."""
    from sklearn.compose import ColumnTransformer

    if not isinstance(node, ColumnTransformer):
        return []
    return list(getattr(node, "transformers_", None) or node.transformers)


def _vectorizers(node: Any) -> Iterator[Any]:
    """Every text vectorizer that reads ``node``'s own input (none behind a column
    transformer, which hands each its column)."""
    if _is_vectorizer(node):
        yield node
    for child in _children(node):
        yield from _vectorizers(child)


def vectorizer_of_rows(estimator: Any) -> str | None:
    """The class of a text vectorizer that reads the estimator's rows themselves (the
    model takes one text per row), or None."""
    return next((type(v).__name__ for v in _vectorizers(estimator)), None)


def _column_vectorizers(node: Any) -> Iterator[tuple[str, Any, Any]]:
    for name, transformer, columns in _transformers(node):
        for vectorizer in _vectorizers(transformer):
            yield name, vectorizer, columns
        yield from _column_vectorizers(transformer)
    for child in _children(node):
        yield from _column_vectorizers(child)


def text_columns(estimator: Any, names: list[str]) -> set[str]:
    """The names (of ``names``, the columns in order) that a text vectorizer reads: every
    one when it reads the rows themselves, else those a column transformer hands one; a
    vectorizer handed anything but one column is refused."""
    if vectorizer_of_rows(estimator) is not None:
        return set(names)
    found = set()
    for step, vectorizer, columns in _column_vectorizers(estimator):
        if isinstance(columns, str) and columns in names:
            found.add(columns)
        elif isinstance(columns, int) and not isinstance(columns, bool) and columns < len(names):
            found.add(names[columns])
        else:
            raise PackagingError(
                f"{type(vectorizer).__name__} in the ColumnTransformer step {step!r} reads "
                f"{columns!r}: irisserve serves a text vectorizer that reads one column, "
                "named or by position"
            )
    return found


def one_column(estimator: Any, x: Any) -> tuple[Any, Any]:
    """A model that takes one text per row as a pipeline of one ``text`` column, and its
    texts (a 1-D sequence, or a one-column DataFrame) as that column; anything else as
    it is."""
    import numpy as np
    import pandas as pd
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    if vectorizer_of_rows(estimator) is None:
        return estimator, x
    if isinstance(x, pd.DataFrame):
        if x.shape[1] != 1:
            raise PackagingError(
                f"{type(estimator).__name__} takes one text per row: the training rows must "
                f"be its texts (one column), not {x.shape[1]} columns"
            )
        x = x.iloc[:, 0]
    texts = pd.DataFrame({TEXT_COLUMN: pd.Series(np.asarray(x, dtype=object))})
    steps = getattr(estimator, "steps", None) or [("model", estimator)]
    column = FunctionTransformer(np.ravel).fit(texts)
    return Pipeline([(TEXT_COLUMN, column), *steps]), texts
