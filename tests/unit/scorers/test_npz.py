"""irisserve.scorers._npz: numpy's .npz read without numpy, and nothing else accepted."""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import pytest

from irisserve.scorers._npz import read_npz, write_npz


def _npz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _npy(header: str, body: bytes = b"", version: int = 1) -> bytes:
    text = header.encode("latin1")
    size = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text + body


def test_arrays_round_trip_with_their_shapes_and_types() -> None:
    arrays = {
        "a": np.arange(6, dtype="<f8").reshape(2, 3),
        "b": np.array([1, -2], dtype="<i4"),
        "c": np.zeros((0, 8), dtype="<u4"),
        "d": np.array([1, 0], dtype="|u1"),
    }
    read = read_npz(write_npz(arrays))
    for name, array in arrays.items():
        assert read[name].shape == array.shape
        assert read[name].flat.tolist() == array.ravel().tolist()
    assert read_npz(
        _npz(
            {
                "v.npy": _npy(
                    str(dict(descr="<f8", fortran_order=False, shape=(1,))), bytes(8), version=2
                )
            }
        )
    )["v"].flat.tolist() == [0.0]


@pytest.mark.parametrize(
    ("member", "data", "reason"),
    [
        ("x.txt", b"", "unexpected member"),
        ("x.npy", b"not an array", "not an .npy"),
        ("x.npy", _npy("{}", version=9), "version"),
        ("x.npy", _npy("[1, 2]"), "malformed .npy header"),
        ("x.npy", _npy("{'descr': <f8}"), "malformed .npy header"),
        ("x.npy", _npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}"), "dtype"),
        ("x.npy", _npy("{'descr': '<f8', 'fortran_order': True, 'shape': (1,)}"), "dtype"),
        ("x.npy", _npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}"), "shape"),
        (
            "x.npy",
            _npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", bytes(8)),
            "bytes",
        ),
    ],
)
def test_anything_but_plain_arrays_is_refused(member: str, data: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        read_npz(_npz({member: data}))
