"""Input bytes into chunks of rows: JSONL native bodies or CSV rows, each with its source. Pure.

A file is read in blocks of about ``CHUNK_BYTES``; the whole lines that end in a block are
one ``Chunk``, the unit the pipeline passes along (one Beam element, one scored batch).

A JSONL line is a native body, ``{"features": ...}``, with an optional ``"id"`` that is
echoed in the output; it is decoded as ``irisserve.jsoncodec.decode`` decodes a body, so a
line that is not JSON gets the function's ``malformed_json`` message. A CSV file starts
with a header of feature names (and an optional ``id`` column); each row becomes the native
body ``{"features": {column: cell}}``, where a cell that reads as a JSON number is that
number (as ``json.loads`` reads it), an empty cell is ``null`` and any other cell is the
text. Blank lines are skipped.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from irisserve import jsoncodec
from irisserve.errors import InvalidInput, MalformedJSON

__all__ = ["CHUNK_BYTES", "FORMATS", "ID", "Chunk", "Refused", "read_chunks"]

#: The optional field (JSONL) or column (CSV) that names a row in the output.
ID = "id"
#: Bytes read at a time: a chunk holds the lines that end in one block (see docs/batch.md).
CHUNK_BYTES = 64 * 1024
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
#: Lines orjson would read otherwise than json (``jsoncodec.orjson_reads_alike``: 19 digits
#: in a row) go to jsoncodec; so do long lines, whose nesting could reach json's recursion
#: limit.
_SHORT_LINE = 800


@dataclass(frozen=True)
class Refused:
    """A line that holds no row the function could be sent, and why."""

    line: int
    raw: bytes
    error: InvalidInput


@dataclass
class Chunk:
    """Rows of one file read together: the i-th row's line, text, body and id, and the lines
    refused before validation. ``size`` is the chunk's bytes."""

    file: str
    size: int = 0
    lines: list[int] = field(default_factory=list)
    raws: list[bytes] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)
    ids: list[Any] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    def __len__(self) -> int:
        """Rows read: those with a body and those refused."""
        return len(self.lines) + len(self.refused)

    def add(self, line: int, raw: bytes, body: Any, row_id: Any) -> None:
        """Append a row that has a native body."""
        self.lines.append(line)
        self.raws.append(raw)
        self.bodies.append(body)
        self.ids.append(row_id)


def _decode(raw: bytes, exact: bool) -> Any:
    """``raw`` as ``jsoncodec.decode`` reads it; with orjson when the two read it alike."""
    if exact and len(raw) < _SHORT_LINE:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # jsoncodec decides, and words the error
    return jsoncodec.decode(raw)


def _bodies(lines: list[bytes], first: int, chunk: Chunk) -> bool:
    """The common chunk in one pass: every line an object orjson reads as json would, each
    taken with its id; ``False`` (``chunk`` untouched) for anything else."""
    if not lines or max(map(len, lines)) >= _SHORT_LINE:
        return False
    try:
        bodies = list(map(orjson.loads, lines))
    except orjson.JSONDecodeError:  # a blank line, or one jsoncodec must word
        return False
    if set(map(type, bodies)) != {dict}:
        return False
    chunk.ids = [body.pop(ID, None) for body in bodies]
    chunk.lines, chunk.raws, chunk.bodies = list(range(first, first + len(lines))), lines, bodies
    return True


class _Jsonl:
    """JSONL lines into rows."""

    def fill(self, chunk: Chunk, first: int, lines: list[bytes], block: bytes) -> None:
        exact = jsoncodec.orjson_reads_alike(block)
        if exact and b"\r" not in block and _bodies(lines, first, chunk):
            return
        for number, line in enumerate(lines, first):
            raw = line.removesuffix(b"\r")
            if not raw.strip():
                continue
            try:
                body = _decode(raw, exact or jsoncodec.orjson_reads_alike(raw))
            except MalformedJSON as exc:
                chunk.refused.append(Refused(number, raw, exc))
                continue
            row_id = body.pop(ID, None) if type(body) is dict else None
            chunk.add(number, raw, body, row_id)


def _cell(text: str) -> Any:
    """A CSV cell as the JSON value a native body would hold (json's int and float)."""
    text = text.strip()
    if not text:
        return None
    if _NUMBER.fullmatch(text) is None:
        return text
    if "." in text or "e" in text or "E" in text:
        return float(text)  # what json.loads gives for a number with a fraction or exponent
    try:
        return int(text)
    except ValueError:  # over sys.get_int_max_str_digits(): the text, refused as such
        return text


def _cells(text: str) -> list[str]:
    """One line's cells: ``str.split`` when no quote or carriage return needs the csv module."""
    if '"' in text or "\r" in text:
        return next(csv.reader([text]))
    return text.split(",")


class _Csv:
    """CSV lines into rows; the first non-blank UTF-8 line is the header."""

    def __init__(self) -> None:
        self.header: list[str] | None = None

    def fill(self, chunk: Chunk, first: int, lines: list[bytes], block: bytes) -> None:
        for number, line in enumerate(lines, first):
            raw = line.removesuffix(b"\r")
            if not raw.strip():
                continue
            try:
                cells = _cells(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                error = InvalidInput(f"line is not UTF-8 (byte {exc.start})")
                chunk.refused.append(Refused(number, raw, error))
                continue
            if self.header is None:
                self.header = [name.strip() for name in cells]
                continue
            if len(cells) != len(self.header):
                message = f"line has {len(cells)} cells, the header has {len(self.header)}"
                chunk.refused.append(Refused(number, raw, InvalidInput(message)))
                continue
            named = dict(zip(self.header, cells, strict=True))
            row_id = named.pop(ID, "").strip() or None
            features = {name: _cell(cell) for name, cell in named.items()}
            chunk.add(number, raw, {"features": features}, row_id)


#: Input format → its reader of lines (a new one per file: CSV keeps its header).
FORMATS: dict[str, type[_Jsonl | _Csv]] = {"jsonl": _Jsonl, "csv": _Csv}


def _whole_lines(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """``blocks`` cut again after their last ``\n``: whole lines, the last piece with an
    unterminated last line if the file has one."""
    rest, piece = b"", b""
    for block in blocks:
        data = rest + block
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        if cut:
            if piece:
                yield piece
            piece = data[:cut]
    if piece or rest:
        yield piece + rest


def read_chunks(file: str, blocks: Iterable[bytes], fmt: str) -> Iterator[Chunk]:
    """The chunks of one file read as ``blocks`` of bytes, cut anywhere.

    One chunk per block in which a line ends; a chunk of blank lines only is not yielded.
    """
    reader = FORMATS[fmt]()
    first = 1
    for whole in _whole_lines(blocks):
        lines = whole.split(b"\n")
        if not lines[-1]:  # the end of the last line, not a line
            lines.pop()
        chunk = Chunk(file, size=len(whole))
        reader.fill(chunk, first, lines, whole)
        first += len(lines)
        if len(chunk):
            yield chunk
