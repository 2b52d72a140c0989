"""What an artifact's bytes could depend on besides the model: the BLAS, and the process.

OpenBLAS picks its kernels by CPU (or by ``OPENBLAS_CORETYPE``) when it loads, so the
same code can compute differently on another machine; the manifest's ``platform`` names
what ran.
A pickle can depend on the process's history: it memoises objects by identity, so
whether two equal strings are one object changes its bytes.
"""

from __future__ import annotations

import sys
from typing import TypeVar

from threadpoolctl import threadpool_info

__all__ = ["blas_description", "with_interned_names"]

T = TypeVar("T")


def blas_description() -> str:
    """Each loaded BLAS as ``library version (kernel, threads) [file]``, sorted."""
    libraries = [
        f"{info['internal_api']} {info['version']} ({info.get('architecture', 'unknown')}, "
        f"{info['num_threads']} threads) [{info['prefix']}]"
        for info in threadpool_info()
        if info["user_api"] == "blas"
    ]
    return "; ".join(sorted(libraries)) or "none"


def with_interned_names(estimator: T) -> T:
    """``estimator`` with its attribute names interned, so its pickle is the same in any process.

    Instance dictionaries share their keys with the first instance of the class; when that
    one was unpickled (say, a model loaded earlier in the same process), its names are
    other string objects than the code's, and pickle writes ``"C"`` twice instead of
    referring back to it.
    """
    estimator.__dict__ = {sys.intern(name): value for name, value in vars(estimator).items()}
    return estimator
