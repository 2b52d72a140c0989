"""XGBoost's float32 arithmetic, the same on one row (Python floats) and a batch (numpy).

XGBoost adds its trees' leaf values in float32, tree by tree from the base margin, and
transforms the margin in float32 with the C library's ``expf``. A float32 ``+ - * /`` is
the float64 operation rounded to float32 (float64 has more than twice float32's precision,
so the double rounding is harmless); ``expf`` is glibc's (since 2.28, also musl's), whose
float64 polynomial is reproduced here step for step. Columns hold float32 values as
float64 (Python floats, or float64 arrays) between operations.
"""

from __future__ import annotations

import math
import struct
from array import array
from typing import Any

__all__ = ["expf", "round32", "sigmoid", "softmax", "sum_trees"]

_BITS = 5  # glibc's EXP2F_TABLE_BITS: 2^(i/32) in a table
_N = 1 << _BITS
_SHIFT = float.fromhex("0x1.8p+52")
_INV_LN2_N = float.fromhex("0x1.71547652b82fep+0") * _N
_POLY = (
    float.fromhex("0x1.c6af84b912394p-5") / _N / _N / _N,
    float.fromhex("0x1.ebfce50fac4f3p-3") / _N / _N,
    float.fromhex("0x1.62e42ff0c52d6p-1") / _N,
)
_OVERFLOW = float.fromhex("0x1.62e42ep6")  # above: inf
_UNDERFLOW = float.fromhex("-0x1.9fe368p6")  # below: 0
_U64 = (1 << 64) - 1
#: The bits of 2^(i/32), less i/32 in the exponent field (glibc's ``__exp2f_data.tab``).
_TABLE = [
    0x3FF0000000000000,
    0x3FEFD9B0D3158574,
    0x3FEFB5586CF9890F,
    0x3FEF9301D0125B51,
    0x3FEF72B83C7D517B,
    0x3FEF54873168B9AA,
    0x3FEF387A6E756238,
    0x3FEF1E9DF51FDEE1,
    0x3FEF06FE0A31B715,
    0x3FEEF1A7373AA9CB,
    0x3FEEDEA64C123422,
    0x3FEECE086061892D,
    0x3FEEBFDAD5362A27,
    0x3FEEB42B569D4F82,
    0x3FEEAB07DD485429,
    0x3FEEA47EB03A5585,
    0x3FEEA09E667F3BCD,
    0x3FEE9F75E8EC5F74,
    0x3FEEA11473EB0187,
    0x3FEEA589994CCE13,
    0x3FEEACE5422AA0DB,
    0x3FEEB737B0CDC5E5,
    0x3FEEC49182A3F090,
    0x3FEED503B23E255D,
    0x3FEEE89F995AD3AD,
    0x3FEEFF76F2FB5E47,
    0x3FEF199BDD85529C,
    0x3FEF3720DCEF9069,
    0x3FEF5818DCFBA487,
    0x3FEF7C97337B9B5F,
    0x3FEFA4AFA2A490DA,
    0x3FEFD0765B6E4540,
]


def round32(column: Any) -> Any:
    """``column`` rounded to float32 (to nearest), kept as float64."""
    if isinstance(column, float):
        return array("f", (column,))[0]
    import numpy as np

    return column.astype(np.float32).astype(np.float64)


def _expf_row(x: float) -> float:
    if x != x:  # noqa: PLR0124 (NaN)
        return x
    if x > _OVERFLOW:
        return math.inf
    if x < _UNDERFLOW:
        return 0.0
    z = _INV_LN2_N * x
    kd = z + _SHIFT
    (ki,) = struct.unpack("<Q", struct.pack("<d", kd))
    kd -= _SHIFT
    r = z - kd
    bits = (_TABLE[ki % _N] + (ki << (52 - _BITS))) & _U64
    (scale,) = struct.unpack("<d", struct.pack("<Q", bits))
    y = (_POLY[0] * r + _POLY[1]) * (r * r) + (_POLY[2] * r + 1.0)
    return float(array("f", (y * scale,))[0])


def _expf_batch(x: Any) -> Any:
    import numpy as np

    with np.errstate(all="ignore"):
        z = _INV_LN2_N * x
        kd = z + _SHIFT
        ki = kd.view(np.uint64)
        kd = kd - _SHIFT
        r = z - kd
        bits = np.array(_TABLE, dtype=np.uint64)[ki % np.uint64(_N)]
        bits += ki << np.uint64(52 - _BITS)
        y = (_POLY[0] * r + _POLY[1]) * (r * r) + (_POLY[2] * r + 1.0)
        y = (y * bits.view(np.float64)).astype(np.float32).astype(np.float64)
    y = np.where(x > _OVERFLOW, np.inf, np.where(x < _UNDERFLOW, 0.0, y))
    return np.where(np.isnan(x), x, y)


def expf(column: Any) -> Any:
    """glibc's ``expf`` of float32 values."""
    return _expf_row(column) if isinstance(column, float) else _expf_batch(column)


def sum_trees(start: float, leaves: Any) -> Any:
    """``start`` plus each tree's leaf value in order, every addition in float32."""
    if not isinstance(leaves, list):  # a batch: (trees, rows) float64 values of float32s
        import numpy as np

        total = np.full(leaves.shape[1], start, dtype=np.float32)
        for values in leaves.astype(np.float32):
            total += values
        return total.astype(np.float64)
    # a float32 memoryview: its item is stored (rounded) a little faster than array's
    accumulator = memoryview(bytearray(4)).cast("f")
    accumulator[0] = start
    for value in leaves:
        accumulator[0] += value  # stored as float32: rounded
    return float(accumulator[0])


def sigmoid(margin: Any, ops: Any) -> Any:
    """XGBoost's ``common::Sigmoid``: ``1 / (expf(min(-x, 88.7)) + 1)`` in float32 (its
    ``+ 1e-16f`` never changes a float32 of at least 1)."""
    limit = round32(88.7)
    clipped = ops.where(-margin < limit, -margin, limit)
    return round32(1.0 / round32(expf(clipped) + 1.0))


def softmax(margins: list[Any], ops: Any) -> list[Any]:
    """XGBoost's ``common::Softmax``: subtract the max (float32), ``expf``, sum in float64,
    divide by the sum rounded to float32."""
    top = margins[0]
    for margin in margins[1:]:
        top = ops.where(margin > top, margin, top)
    exps = [expf(round32(margin - top)) for margin in margins]
    total = exps[0]
    for value in exps[1:]:
        total = total + value
    denominator = round32(total)
    return [round32(value / denominator) for value in exps]
