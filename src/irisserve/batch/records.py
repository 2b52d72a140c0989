"""Input lines into records: JSONL native bodies or CSV rows, each with its source. Pure.

A JSONL line is a native body, ``{"features": ...}``, with an optional ``"id"`` that is
echoed in the output; it is decoded by ``irisserve.jsoncodec``, so a line that is not
JSON gets the function's ``malformed_json`` message. A CSV file starts with a header of
feature names (and an optional ``id`` column); each row becomes the native body
``{"features": {column: cell}}``, where a cell that reads as a JSON number is that
number, an empty cell is ``null`` and any other cell is the text. Blank lines are skipped.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from irisserve import jsoncodec
from irisserve.errors import InvalidInput, MalformedJSON

__all__ = ["FORMATS", "ID", "Record", "read_records"]

#: The optional field (JSONL) or column (CSV) that names a row in the output.
ID = "id"
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


@dataclass(frozen=True)
class Record:
    """One input row: where it came from, its text, and its native body or why it has none."""

    file: str
    line: int
    raw: str
    body: Any = None
    id: Any = None
    error: InvalidInput | None = None

    def source(self) -> dict[str, Any]:
        """The output fields that name this row: its ``id``, else its file and line."""
        if self.id is not None:
            return {ID: self.id}
        return {"file": self.file, "line": self.line}


def _unterminated(raw: bytes) -> bytes:
    """The line without its ``\n`` or ``\r\n``: the body the function would have been sent."""
    return raw.removesuffix(b"\n").removesuffix(b"\r")


def _text(raw: bytes) -> str:
    return _unterminated(raw).decode("utf-8", errors="replace")


def _jsonl(file: str, lines: Iterable[bytes]) -> Iterator[Record]:
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            body = jsoncodec.decode(_unterminated(raw))
        except MalformedJSON as exc:
            yield Record(file, number, _text(raw), error=exc)
            continue
        row_id = body.pop(ID, None) if isinstance(body, dict) else None
        yield Record(file, number, _text(raw), body=body, id=row_id)


def _cell(text: str) -> Any:
    """A CSV cell as the JSON value a native body would hold."""
    text = text.strip()
    if not text:
        return None
    if _NUMBER.fullmatch(text):
        return jsoncodec.decode(text.encode())
    return text


def _csv(file: str, lines: Iterable[bytes]) -> Iterator[Record]:
    header: list[str] | None = None
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        text = _text(raw)
        try:
            cells = next(csv.reader([_unterminated(raw).decode("utf-8")]))
        except UnicodeDecodeError as exc:
            error = InvalidInput(f"line is not UTF-8 (byte {exc.start})")
            yield Record(file, number, text, error=error)
            continue
        if header is None:
            header = [name.strip() for name in cells]
            continue
        if len(cells) != len(header):
            message = f"line has {len(cells)} cells, the header has {len(header)}"
            yield Record(file, number, text, error=InvalidInput(message))
            continue
        named = dict(zip(header, cells, strict=True))
        row_id = named.pop(ID, "").strip() or None
        features = {name: _cell(cell) for name, cell in named.items()}
        yield Record(file, number, text, body={"features": features}, id=row_id)


#: Input format → the reader of its lines.
FORMATS = {"jsonl": _jsonl, "csv": _csv}


def read_records(file: str, lines: Iterable[bytes], fmt: str) -> Iterator[Record]:
    """The records of one file's ``lines`` (bytes, with or without their line ends)."""
    return FORMATS[fmt](file, lines)
