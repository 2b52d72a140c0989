"""Pickle-free exports of XGBoost and LightGBM models, from the libraries' own model dumps.

The library is recognised by the model's module (``xgboost.sklearn``, ``lightgbm.sklearn``),
so nothing here imports either; the export reads the booster (``get_booster()`` or
``booster_``), ``classes_`` (present: a classifier) and ``n_features_in_``. The exported
trees are scored by ``trees.Boosting``, which needs neither library.
"""

from __future__ import annotations

from typing import Any

__all__ = ["booster_covers", "export_booster", "library_of"]


def library_of(model: Any) -> str | None:
    """``"xgboost"`` or ``"lightgbm"`` for a model of that library, else None."""
    library = type(model).__module__.partition(".")[0]
    return library if library in ("xgboost", "lightgbm") else None


def export_booster(model: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The boosting spec and node arrays of an XGBoost or LightGBM model, or None if it
    is neither; ``NotExportable`` if it cannot be served exactly."""
    library = library_of(model)
    if library == "xgboost":
        from irisserve.scorers._xgboost import export_xgboost

        return export_xgboost(model)
    if library == "lightgbm":
        from irisserve.scorers._lightgbm import export_lightgbm

        return export_lightgbm(model)
    return None


def booster_covers(model: Any) -> Any:
    """Each exported node's cover (``shap.TreeExplainer``'s node weights), in node order."""
    library = library_of(model)
    if library == "xgboost":
        from irisserve.scorers import _xgboost

        return _xgboost.booster_covers(model)
    if library == "lightgbm":
        from irisserve.scorers import _lightgbm

        return _lightgbm.booster_covers(model)
    raise TypeError(f"{type(model).__name__} is not an XGBoost or LightGBM model")
