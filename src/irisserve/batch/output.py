"""A scored chunk into its output lines, written by ``irisserve.jsoncodec``. Pure: no Beam.

An answer line is the row's ``id`` (or, without one, its ``file`` and ``line``), then the
function's answer to the row. An error line is the row's ``file``, ``line``, ``raw`` text,
``id`` when it had one, and the function's ``error`` message and ``code``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from irisserve import jsoncodec
from irisserve.batch.answers import Outcome, Refusal, rejected
from irisserve.batch.records import ID, Chunk

__all__ = ["Lines", "chunk_lines", "unreadable_line"]


@dataclass(frozen=True)
class Lines:
    """A chunk's answer lines and error lines, each set as one text (``\n`` between lines,
    none after the last), and how many of each."""

    answers: bytes
    errors: bytes
    scored: int
    rejected: int


def _error(file: str, line: int | None, raw: bytes | None, row_id: Any, why: Refusal) -> bytes:
    text = None if raw is None else raw.decode("utf-8", errors="replace")
    fields: dict[str, Any] = {"file": file, "line": line, "raw": text}
    if row_id is not None:
        fields[ID] = row_id
    return jsoncodec.encode({**fields, "error": why.error, "code": why.code})


def unreadable_line(file: str, message: str) -> bytes:
    """The one error line of a file that could not be opened or read to its end."""
    return _error(file, None, None, None, Refusal(message, "unreadable"))


def chunk_lines(chunk: Chunk, outcomes: Sequence[Outcome]) -> Lines:
    """The lines of a chunk whose bodies got ``outcomes``, and of the lines it refused.

    Each line goes into one buffer as soon as it is encoded: holding a chunk's thousand
    small ``bytes`` alive before joining them made ``encode`` ten times slower (measured).
    """
    file, encode = chunk.file, jsoncodec.encode
    answers, errors = io.BytesIO(), io.BytesIO()
    answer, error = answers.write, errors.write
    scored = 0
    for line, raw, row_id, outcome in zip(
        chunk.lines, chunk.raws, chunk.ids, outcomes, strict=True
    ):
        if isinstance(outcome, Refusal):
            error(_error(file, line, raw, row_id, outcome) + b"\n")
            continue
        source = {"file": file, "line": line} if row_id is None else {ID: row_id}
        answer(encode({**source, **outcome}))
        answer(b"\n")
        scored += 1
    for refused in chunk.refused:
        error(_error(file, refused.line, refused.raw, None, rejected(refused.error)) + b"\n")
    return Lines(
        answers.getvalue().removesuffix(b"\n"),
        errors.getvalue().removesuffix(b"\n"),
        scored,
        len(chunk) - scored,
    )
