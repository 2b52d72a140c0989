"""Scorers: the one contract, the scikit-learn backend and the pickle-free fast path.

- ``contract``: ``Scorer`` and ``Scores``: validated rows in, scores out
- ``estimator``: ``SklearnScorer``, a fitted estimator or pipeline (joblib or skops)
- ``fast``: pickle-free exports and their scorers: export, load, ``FastScorer``
- ``preprocessing``, ``linear``, ``trees``, ``hist``: one module per family of steps
- ``boosters``: XGBoost and LightGBM models, from the libraries' own dumps
  (``_xgboost``, ``_lightgbm``; ``_float32``: XGBoost's float32 sums, ``expf`` and links)
- ``output``: what a step answers, as columns (a value per row, or an array per batch)
- ``_spec``: the export's vocabulary: the refusal exception, strict JSON readers
- ``_ops``: the operations that differ between one row in Python and a batch in numpy
- ``_link``: raw scores into labels and probabilities, as scikit-learn does
- ``_forest``: trees as flat node arrays; ``_npz``: ``.npz`` arrays read without pickle

Who may import it: ``irisserve.artifact`` (to give a model its scorer), ``protocols`` (the
contract's types) and ``packaging`` (exports and the check). It imports only ``errors``,
``schema`` and ``artifact.manifest``: never ``serving``, ``protocols``, ``packaging``.
"""
