"""Strict JSON in and compact JSON out.

Python's ``json`` accepts ``NaN``/``Infinity`` literals, turns deep nesting into
``RecursionError`` and refuses integers over 4300 digits with ``ValueError``;
here every one of those becomes a ``MalformedJSON`` a caller can act on.
A body another codec already wrote (``Encoded``) passes through ``encode`` as is.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from irisserve.errors import MalformedJSON

__all__ = ["Encoded", "decode", "encode"]


class Encoded(bytes):
    """A JSON document already encoded (compact, UTF-8, finite numbers only)."""


def _reject_constant(name: str) -> Any:
    raise MalformedJSON(f"{name} is not valid JSON; send finite numbers only")


_decoder = json.JSONDecoder(parse_constant=_reject_constant)
_encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def decode(data: bytes) -> Any:
    """Decode a UTF-8 JSON document, raising ``MalformedJSON`` for anything else."""
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
