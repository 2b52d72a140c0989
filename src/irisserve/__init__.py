"""irisserve: serverless scikit-learn inference for Google Cloud Functions (2nd gen).

Import the submodules you need (``irisserve.serving.wsgi`` for the entry points,
``irisserve.artifact.folder`` to open a model folder); this package module stays
cheap to import because a cold start pays for every import.
"""

__all__ = ["__version__"]

__version__ = "1.0.0"
