"""The Open Inference Protocol (KServe V2), JSON and binary tensors.

- ``routes``: the ``/v2`` routes: health, metadata, ``infer``
- ``decode``: requests (JSON or binary tensors) into rows, and the outputs they ask for (pure)
- ``encode``: answers into output tensors, JSON or binary, and the model's metadata (pure)

Who may import it: only ``irisserve.serving.wsgi``'s route table, by name, on the first
``/v2`` request (``routes`` then imports ``decode`` and ``encode`` when a request needs them).
It imports ``protocols``, ``serving``, ``schema``, ``artifact``, ``scorers``; never
``protocols.events``.
"""
