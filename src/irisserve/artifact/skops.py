"""The skops artifact (``model.skops``): a scikit-learn model loaded without unpickling.

skops rebuilds an estimator from a declarative description and only instantiates
types it trusts: its own defaults (scikit-learn estimators, numpy and scipy
containers, builtins) plus :data:`TRUSTED_TYPES`. A file naming any other type
is refused with ``UntrustedArtifact`` before anything in it is built. skops is
imported only here, on the path of ``IRISSERVE_SCORER=skops``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from irisserve.errors import ArtifactIntegrityError, ConfigurationError, UntrustedArtifact

__all__ = ["SKOPS_NAME", "TRUSTED_TYPES", "dumps", "load_estimator"]

SKOPS_NAME = "model.skops"

#: Types trusted beyond skops' defaults: scikit-learn's own tree structures, so tree
#: ensembles load too. Add a type only after reading what constructing it can do.
TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)


def _skops_io() -> ModuleType:
    try:
        import skops.io  # deferred: only the skops scorer and training need it
    except ImportError as exc:
        raise ConfigurationError(
            "IRISSERVE_SCORER=skops needs the skops package: install irisserve[skops]"
        ) from exc
    module: ModuleType = skops.io
    return module


def dumps(estimator: Any) -> bytes:
    """Serialise a fitted estimator (for training)."""
    data: bytes = _skops_io().dumps(estimator)
    return data


def load_estimator(data: bytes) -> Any:
    """Rebuild the estimator in ``data``, refusing any type outside the trusted list."""
    skops_io = _skops_io()
    try:
        untrusted = skops_io.get_untrusted_types(data=data)
    except Exception as exc:  # not a skops file at all
        raise ArtifactIntegrityError(f"{SKOPS_NAME} could not be read: {exc}") from exc
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise UntrustedArtifact(
            f"{SKOPS_NAME} holds types irisserve does not trust: {', '.join(refused)}; "
            "retrain with `python -m training.train --skops` or serve another artifact"
        )
    try:
        return skops_io.loads(data, trusted=list(TRUSTED_TYPES))
    except Exception as exc:
        raise ArtifactIntegrityError(f"{SKOPS_NAME} could not be loaded: {exc}") from exc
