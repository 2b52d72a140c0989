"""Strict JSON in and compact JSON out.

Python's ``json`` accepts ``NaN``/``Infinity`` literals, turns deep nesting into
``RecursionError`` and refuses integers over 4300 digits with ``ValueError``;
here every one of those becomes a ``MalformedJSON`` a caller can act on.
A body another codec already wrote (``Encoded``) passes through ``encode`` as is.

Large documents go through orjson, imported on first use so a cold start never
pays for it: ``decode`` tries it on bodies of ``LARGE_BODY_BYTES`` or more and
lets the standard library decide (and word the error) whenever orjson refuses,
so both accept exactly the same documents; ``encode_large`` writes big answers, and
``encode_numbers`` a large numeric array exactly as ``encode`` would write its list, and
``number_texts`` the text of each number, for answers assembled from pieces.
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
    "encode_large",
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


def encode_large(payload: Any) -> Encoded:
    """Compact UTF-8 JSON through orjson, for large answers.

    orjson writes NaN as ``null``: only pass payloads whose numbers are finite.
    """
    import orjson

    return Encoded(orjson.dumps(payload))


#: Below this magnitude orjson writes a float unlike Python's ``repr`` (which ``json`` uses):
#: ``0.00001`` for ``1e-05``, ``1e-7`` for ``1e-07``. Everything else is written alike.
_REPR_DIFFERS_BELOW = 1e-4


def _unlike(values: npt.NDArray[np.generic]) -> npt.NDArray[np.intp]:
    """Where in the 1-D array ``values`` orjson writes a number unlike ``encode``."""
    import numpy as np

    if values.dtype.kind != "f":
        return np.empty(0, dtype=np.intp)
    return np.flatnonzero((np.abs(values) < _REPR_DIFFERS_BELOW) & (values != 0))


def _as_standard(
    texts: list[bytes], values: npt.NDArray[np.generic], unlike: npt.NDArray[np.intp]
) -> None:
    """Rewrite the texts of ``values[unlike]`` (orjson's, in place) as ``encode`` writes them."""
    for index, value in zip(unlike.tolist(), values[unlike].tolist(), strict=True):
        texts[index] = repr(value).encode()


def encode_numbers(values: npt.NDArray[np.generic]) -> Encoded:
    """A 1-D array of finite numbers as the JSON list ``encode(values.tolist())`` writes,
    byte for byte, through orjson (a fraction of the time for large arrays): the few floats
    it writes otherwise are rewritten with ``repr``."""
    import orjson

    data = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)
    unlike = _unlike(values)
    if not len(unlike):
        return Encoded(data)
    texts = data[1:-1].split(b",")
    _as_standard(texts, values, unlike)
    return Encoded(b"[" + b",".join(texts) + b"]")


def number_texts(rows: Sequence[Any] | npt.NDArray[np.generic], standard: bool) -> list[bytes]:
    """The JSON text of every number in ``rows`` (finite numbers, or equal-length lists of
    them; a list or a numpy array), row by row: as ``encode_large`` writes each inside a
    document, or with ``standard`` as ``encode`` does."""
    import numpy as np
    import orjson

    data = orjson.dumps(rows, option=orjson.OPT_SERIALIZE_NUMPY)
    texts = data.replace(b"[", b"").replace(b"]", b"").split(b",")
    if texts == [b""]:
        return []
    if standard:
        if isinstance(rows, np.ndarray):
            flat = rows.ravel()
        else:
            cells = chain.from_iterable(rows) if isinstance(rows[0], list) else rows
            flat = np.fromiter(cells, dtype=np.float64, count=len(texts))
        _as_standard(texts, flat, _unlike(flat))
    return texts


def append_member(document: bytes, key: str, value: bytes) -> Encoded:
    """The encoded JSON object ``document`` with one more member, ``key``: ``value`` (already
    encoded), at the end: what ``encode`` writes for the object with that member last."""
    separator = b"," if document != b"{}" else b""
    return Encoded(document[:-1] + separator + encode(key) + b":" + value + b"}")
