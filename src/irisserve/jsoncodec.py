"""Strict JSON in, and the one encoder of every answer out.

Python's ``json`` accepts ``NaN``/``Infinity`` literals, turns deep nesting into
``RecursionError`` and refuses integers over 4300 digits with ``ValueError``;
here every one of those becomes a ``MalformedJSON`` a caller can act on. Bodies of
``LARGE_BODY_BYTES`` or more are parsed with orjson first, and the standard library
decides (and words the error) whenever orjson refuses, so both accept the same documents;
a body with a run of 19 digits also goes to the standard library (``orjson_reads_alike``:
orjson reads an integer of 2**64 or more as a float, and a record's ``id`` would lose digits).

``encode`` writes every answer, one row or a million, with orjson: a row's floats are the
same text alone or in any batch, and parse back to the same floats, bit for bit. orjson
writes a float as its shortest round-trip digits like ``repr``, spelled its own way below
1e-4 (``5.52e-8``, ``0.000015``). The two documents orjson cannot write, an integer beyond
64 bits (a record's own ``id``) and a string holding a lone surrogate, go to the standard
library, whose floats parse to the same values. Non-finite floats, which no answer holds
(``Model`` refuses a row whose scores overflow), orjson writes as ``null``. A batch's
numpy arrays (``irisserve.scorers.contract``) are written by orjson in C, the same text as
their ``tolist`` (tested), and as their ``tolist`` by the standard library.

orjson is imported with this module, on the cold path: 0.8 ms on top of a cold
``POST /predict``'s 316 ms of imports (``python -X importtime``; alone it shows 23 ms, almost
all of it ``dataclasses``, ``uuid``, ``datetime`` and ``json``, which Flask has imported).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import orjson

from irisserve.errors import MalformedJSON

__all__ = ["LARGE_BODY_BYTES", "decode", "encode", "orjson_reads_alike"]

#: Bodies at least this long are parsed with orjson first (a 10,000-row batch: 4x faster).
LARGE_BODY_BYTES = 64 * 1024
_DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19


def _reject_constant(name: str) -> Any:
    raise MalformedJSON(f"{name} is not valid JSON; send finite numbers only")


_decoder = json.JSONDecoder(parse_constant=_reject_constant)


def _tolist(value: Any) -> Any:
    """A numpy array (one orjson cannot write as it is) as Python lists; else ``TypeError``."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_fallback = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=_tolist)


def orjson_reads_alike(data: bytes) -> bool:
    """Whether orjson reads every number in ``data`` as ``json`` does: no run of 19 digits,
    so no integer of 2**64 or more (which orjson reads as a float)."""
    return _LONG_DIGITS not in data.translate(_DIGITS_AS_ZEROS)


def _decode_large(data: bytes) -> tuple[bool, Any]:
    """``(True, document)`` when orjson reads ``data`` as ``json`` would; else ``(False, None)``."""
    if not orjson_reads_alike(data):
        return False, None
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
    """Compact UTF-8 JSON of ``payload``: every answer's body (see the module docstring)."""
    try:
        return orjson.dumps(payload, default=_tolist, option=orjson.OPT_SERIALIZE_NUMPY)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, a lone surrogate
        return _fallback.encode(payload).encode()
