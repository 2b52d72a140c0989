"""Packaging a fitted estimator as an artifact folder: build, verify, describe its inputs.

- ``build``: ``write_artifact``: describe, export, verify, then write the folder
- ``inputs``: the input schema and the task from an estimator and its rows (pandas)
- ``verify``: does the folder, opened as serving opens it, answer like the estimator?
- ``check``: does each pickle-free export answer like its estimator, row for row?
- ``boosterfile``: a saved XGBoost or LightGBM booster, as its scikit-learn wrapper
- ``text``: the columns text vectorizers read; a one-text-per-row model as one column
- ``supported``: refuse multi-output models with a sentence
- ``libraries``: every library the pickled estimator needs, for the manifest
- ``metrics``: the metrics a manifest records
- ``tolerance``: how close to scikit-learn a served answer must be, per output's scale
- ``environment``: the BLAS the manifest records; pickling with interned names
- ``_positional``: a copy of a pipeline that finds its named columns by position
- ``errors``: ``PackagingError`` (packaging only: serving never raises it)
- ``cli``, ``__main__``: ``python -m irisserve.packaging`` (its last line: the serving backend)

``write_artifact`` is the Python API; ``python -m irisserve.packaging`` the command line.
Packaging runs where the model is trained (it needs scikit-learn and pandas). Who may import
it: ``training/``, users' own fitting code, tests; nothing else in the library. It imports
``artifact``, ``scorers``, ``schema`` and ``errors``.
"""

from irisserve.packaging.build import write_artifact
from irisserve.packaging.errors import PackagingError

__all__ = ["PackagingError", "write_artifact"]
