"""Exact per-row feature attributions (issue #27), off the predict path.

- ``treeshap``: path-dependent Tree SHAP over the flat node arrays and a cover per node
- ``paths``: every root-to-leaf path of those arrays, read with whole-array operations
- ``linear``: ``coefficient * (value - training mean)`` in the model's margin
- ``columns``: the input column behind each of the model's columns
- ``export``: ``explain.npz`` (covers, training means, sources), written at packaging time
- ``explanations``: what every explainer answers (``Explanations``)
- ``explainer``: a served model's explainer, built on its first explain request
- ``fallback``: models served by scikit-learn, explained by ``shap`` (``irisserve[explain]``)

Who may import it: ``irisserve.protocols`` (the explain routes, on their first request),
``irisserve.packaging`` (``export``) and ``irisserve.batch`` (``--explain``). It imports
only ``errors``, ``artifact`` and ``scorers``.
"""
