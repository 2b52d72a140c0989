"""The wire formats: decode a request into rows, score them once, encode the answer.

- ``native``: the native routes, ``GET /``, ``POST /predict``, ``GET /model-info``
- ``v1``: KServe V1 / Vertex AI ``{"instances": [...]}`` routes
- ``explain``: ``POST /explain`` and V1's ``:explain`` (KServe or Vertex AI answers)
- ``predictions``: the native JSON prediction objects, as the seed API documented them
- ``predictions_json``: a batch's native answer written from its score columns, no objects
- ``scored``: score validated rows the same way for every caller: predictions, drift, logs
- ``_served``: what the KServe (V1 and V2) routes share: the model a path names, readiness
- ``v2/``: the Open Inference Protocol (KServe V2); ``events/``: Pub/Sub push and CloudEvents

Every answer is written with ``irisserve.jsoncodec``, the one encoder.

Who may import it: ``irisserve.serving.wsgi`` (``native``; ``v1``, ``v2.routes`` and ``explain`` by
name, on their first request), ``irisserve.batch`` (``predictions``, ``scored``: the function's
answers). Never ``schema``, ``artifact``, ``scorers`` or ``packaging``.
"""
