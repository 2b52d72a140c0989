"""Arrays in a ``.npz`` file, read without numpy and without pickle.

The exporter writes a plain (uncompressed) ``numpy.savez`` archive; this reader parses
its ``.npy`` headers with ``ast.literal_eval`` and exposes each array as a typed
``memoryview`` over the bytes, so a cold single-row request need not import numpy.
``numpy.load(..., allow_pickle=False)`` reads the same file.
"""

from __future__ import annotations

import ast
import io
import math
import struct
import zipfile
from typing import Any

__all__ = ["Array", "read_npz", "write_npz"]

#: npy dtype descriptions we accept → memoryview format codes (little-endian only).
_FORMATS = {"<f8": "d", "<f4": "f", "<i4": "i", "<i8": "q", "<u4": "I", "|u1": "B", "|b1": "?"}
_MAGIC = b"\x93NUMPY"


class Array:
    """One array: its elements flat in C order, and its shape."""

    __slots__ = ("flat", "shape")

    def __init__(self, flat: memoryview, shape: tuple[int, ...]) -> None:
        self.flat, self.shape = flat, shape


def _parse(name: str, data: bytes) -> Array:
    if not data.startswith(_MAGIC) or len(data) < 10:
        raise ValueError(f"{name} is not an .npy array")
    major = data[6]
    if major == 1:
        (length,), start = struct.unpack_from("<H", data, 8), 10
    elif major in (2, 3):
        (length,), start = struct.unpack_from("<I", data, 8), 12
    else:
        raise ValueError(f"{name} has unknown .npy version {major}")
    try:
        header = ast.literal_eval(data[start : start + length].decode("latin1"))
    except SyntaxError as exc:  # not a Python literal
        raise ValueError(f"{name} has a malformed .npy header") from exc
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ValueError(f"{name} has a malformed .npy header")
    descr, shape = header["descr"], header["shape"]
    if descr not in _FORMATS or header["fortran_order"] is not False:
        raise ValueError(f"{name} has an unsupported dtype {descr!r}")
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError(f"{name} has a malformed shape")
    body = memoryview(data)[start + length :]
    fmt = _FORMATS[descr]
    if len(body) != math.prod(shape) * struct.calcsize(fmt):
        raise ValueError(f"{name} holds {len(body)} bytes, not {shape} of {descr}")
    raw: Any = body.cast("B")  # typeshed types cast() by a literal format only
    return Array(raw.cast(fmt), shape)


def read_npz(data: bytes) -> dict[str, Array]:
    """Every array in an ``.npz`` archive, by name; ``ValueError`` if it is malformed."""
    arrays = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if not name.endswith(".npy"):
                    raise ValueError(f"unexpected member {name!r}")
                arrays[name[: -len(".npy")]] = _parse(name, archive.read(name))
    except (zipfile.BadZipFile, struct.error) as exc:
        raise ValueError(f"not an .npz archive: {exc}") from exc
    return arrays


def write_npz(arrays: dict[str, Any]) -> bytes:
    """An uncompressed ``.npz`` archive of numpy arrays (export side; numpy is there)."""
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()
