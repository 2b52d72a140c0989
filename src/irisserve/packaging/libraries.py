"""The libraries an artifact needs at serving time, for its manifest's ``libraries``.

Python, scikit-learn, numpy and joblib always; skops with ``model.skops``; and every other
installed distribution whose module the pickled estimator refers to (a step's class, a
``FunctionTransformer``'s function, a scipy matrix), found by pickling it once and noting
each object's module. A module that is no installed distribution (a script's own class)
has no version to record: serving needs it importable all the same.
"""

from __future__ import annotations

import pickle
import platform
import sys
from importlib.metadata import packages_distributions, version
from typing import Any

__all__ = ["libraries", "modules"]


class _Discard:
    """A file that keeps nothing."""

    def write(self, data: bytes | pickle.PickleBuffer) -> int:
        # Protocol 5 hands a large contiguous buffer over as a PickleBuffer, which has no len().
        return memoryview(data).nbytes


class _ModuleRecorder(pickle.Pickler):
    """A pickler that notes the top-level module of every object it pickles."""

    def __init__(self) -> None:
        super().__init__(_Discard(), protocol=pickle.HIGHEST_PROTOCOL)
        self.found: set[str] = set()

    def reducer_override(self, obj: Any) -> Any:
        named = obj if isinstance(obj, type) or callable(obj) else type(obj)
        module = getattr(named, "__module__", None) or type(obj).__module__
        self.found.add(module.split(".")[0])
        return NotImplemented


def modules(estimator: Any) -> set[str]:
    """The top-level modules outside the standard library that unpickling needs."""
    recorder = _ModuleRecorder()
    recorder.dump(estimator)
    return {name for name in recorder.found if name not in sys.stdlib_module_names}


def libraries(estimator: Any, skops: bool) -> dict[str, str]:
    """Distribution → installed version, for every library serving ``estimator`` needs."""
    import joblib
    import numpy as np
    import sklearn

    found = {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
    }
    if skops:
        found["skops"] = version("skops")
    distributions = packages_distributions()
    for module in sorted(modules(estimator)):
        for distribution in distributions.get(module, []):
            found.setdefault(distribution, version(distribution))
    return found
