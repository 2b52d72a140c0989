"""The packaging exception (packaging only: serving never raises it)."""

from __future__ import annotations

__all__ = ["PackagingError"]


class PackagingError(ValueError):
    """An estimator or its training rows cannot be packaged, or the packaged folder would not
    answer what the estimator answers. (Packaging only: serving never raises it, so it is
    not in ``irisserve.errors``, whose every class the HTTP error table maps.)"""
