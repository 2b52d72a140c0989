"""Strict JSON in and compact JSON out.

Python's ``json`` accepts ``NaN``/``Infinity`` literals, turns deep nesting into
``RecursionError`` and refuses integers over 4300 digits with ``ValueError``;
here every one of those becomes a ``MalformedJSON`` a caller can act on.
A body another codec already wrote (``Encoded``) passes through ``encode`` as is.

Large documents go through orjson, imported on first use so a cold start never
pays for it: ``decode`` tries it on bodies of ``LARGE_BODY_BYTES`` or more and
lets the standard library decide (and word the error) whenever orjson refuses,
so both accept exactly the same documents. ``encode_numbers`` writes a large numeric
array exactly as ``encode`` would write its list, and ``number_texts`` the text of each
number, for answers assembled from pieces: orjson's output, with the only floats it
writes otherwise (below 1e-4) rewritten on its bytes as ``repr`` writes them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

from irisserve.errors import MalformedJSON

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "LARGE_BODY_BYTES",
    "Encoded",
    "append_member",
    "decode",
    "encode",
    "encode_numbers",
    "number_texts",
]

#: Bodies at least this long are parsed with orjson first (a 10,000-row batch: 4x faster).
LARGE_BODY_BYTES = 64 * 1024


class Encoded(bytes):
    """A JSON document already encoded (compact, UTF-8, finite numbers only)."""


def _reject_constant(name: str) -> Any:
    raise MalformedJSON(f"{name} is not valid JSON; send finite numbers only")


_decoder = json.JSONDecoder(parse_constant=_reject_constant)
_encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def _decode_large(data: bytes) -> tuple[bool, Any]:
    """``(True, document)`` when orjson accepts ``data``; ``(False, None)`` when it refuses."""
    import orjson

    try:
        return True, orjson.loads(data)
    except orjson.JSONDecodeError:
        return False, None


def decode(data: bytes) -> Any:
    """Decode a UTF-8 JSON document, raising ``MalformedJSON`` for anything else."""
    if len(data) >= LARGE_BODY_BYTES:
        accepted, document = _decode_large(data)
        if accepted:
            return document
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedJSON(f"the body is not UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise MalformedJSON("the body is empty; send a JSON object")
    try:
        return _decoder.decode(text)
    except MalformedJSON:
        raise
    except json.JSONDecodeError as exc:
        raise MalformedJSON(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise MalformedJSON("the body is nested too deeply") from None
    except ValueError:  # an integer longer than sys.get_int_max_str_digits()
        raise MalformedJSON(
            f"the body holds an integer of more than {sys.get_int_max_str_digits()} digits"
        ) from None


def encode(payload: Any) -> bytes:
    """Compact UTF-8 JSON; refuses NaN so a response is always valid JSON."""
    if type(payload) is Encoded:
        return payload
    return _encoder.encode(payload).encode()


#: Below this magnitude orjson writes a float unlike Python's ``repr`` (which ``json`` uses),
#: in two ways and no other (the tests check every magnitude): an exponent of one digit,
#: ``1e-7`` for ``1e-07``; and from 1e-5 up, decimals: ``0.000015`` for ``1.5e-05``.
_REPR_DIFFERS_BELOW = 1e-4
_DECIMALS = b"0.0000"  # how orjson begins a float in [1e-5, 1e-4); repr writes "e-05" instead
_COMMA, _MINUS, _ZERO, _E, _POINT = b",-0e."


def _as_repr(text: npt.NDArray[np.uint8], unlike: npt.NDArray[np.intp]) -> bytes:
    """orjson's flat JSON list ``text`` with its items at ``unlike`` (floats below 1e-4)
    rewritten as ``repr`` writes them, all at once rather than one ``repr`` each (Python's
    is 30x slower than orjson's writer): a 0 before a one-digit exponent; "0.0000" dropped
    from decimals, a point after their first digit (if more follow) and "e-05" after them."""
    import numpy as np

    commas = np.flatnonzero(text == _COMMA)
    ends = np.append(commas, len(text) - 1)[unlike]  # the "," or "]" after each item
    starts = np.insert(commas + 1, 0, 1)[unlike]
    digits = starts + (text[starts] == _MINUS)
    short = ends[text[ends - 3] == _E] - 1  # 1.5e-7: a 0 before the 7
    decimal = text[digits] == _ZERO
    first, last = digits[decimal], ends[decimal]
    size = len(_DECIMALS)
    kept = np.delete(text, (first[:, None] + np.arange(size)).ravel())
    point = first[last > first + size + 1] + size + 1  # 0.0000152: a point after the 1
    where = np.concatenate([short, point, np.repeat(last, 4)])
    what = np.concatenate(
        [
            np.full(len(short), _ZERO, np.uint8),
            np.full(len(point), _POINT, np.uint8),
            np.tile(np.frombuffer(b"e-05", np.uint8), len(last)),
        ]
    )
    where -= size * np.searchsorted(first, where)  # the bytes dropped before each insertion
    return bytes(np.insert(kept, where, what))


def _standard(data: bytes, values: npt.NDArray[np.generic]) -> bytes:
    """orjson's flat JSON list ``data`` of the 1-D array ``values``, as ``encode`` writes it."""
    import numpy as np

    if values.dtype.kind != "f":
        return data
    unlike = np.flatnonzero((np.abs(values) < _REPR_DIFFERS_BELOW) & (values != 0))
    return _as_repr(np.frombuffer(data, np.uint8), unlike) if len(unlike) else data


def encode_numbers(values: npt.NDArray[np.generic]) -> Encoded:
    """A 1-D array of finite numbers as the JSON list ``encode(values.tolist())`` writes,
    byte for byte, through orjson (a fraction of the time for large arrays)."""
    import orjson

    return Encoded(_standard(orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY), values))


def number_texts(rows: Sequence[Any] | npt.NDArray[np.generic]) -> list[bytes]:
    """The JSON text of every number in ``rows`` (finite numbers, or equal-length lists of
    them; a list or a numpy array), row by row, as ``encode`` writes each inside a document."""
    import numpy as np
    import orjson

    data = orjson.dumps(rows, option=orjson.OPT_SERIALIZE_NUMPY)
    flat = data.replace(b"[", b"").replace(b"]", b"")
    if not flat:
        return []
    if isinstance(rows, np.ndarray):
        values = rows.ravel()
    else:
        cells = chain.from_iterable(rows) if isinstance(rows[0], list) else rows
        values = np.fromiter(cells, dtype=np.float64)
    return _standard(b"[" + flat + b"]", values)[1:-1].split(b",")


def append_member(document: bytes, key: str, value: bytes) -> Encoded:
    """The encoded JSON object ``document`` with one more member, ``key``: ``value`` (already
    encoded), at the end: what ``encode`` writes for the object with that member last."""
    separator = b"," if document != b"{}" else b""
    return Encoded(document[:-1] + separator + encode(key) + b":" + value + b"}")
