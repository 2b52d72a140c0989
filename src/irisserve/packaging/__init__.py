"""Packaging a fitted estimator as an artifact folder: build, verify, describe its inputs.

``write_artifact`` is the Python API; ``python -m irisserve.packaging`` the command line.
Packaging runs where the model is trained (it needs scikit-learn and pandas); the serving
code never imports this package.
"""

from irisserve.packaging.build import write_artifact
from irisserve.packaging.errors import PackagingError

__all__ = ["PackagingError", "write_artifact"]
