"""The Open Inference Protocol (KServe V2), JSON and binary tensors.

- ``routes``: the ``/v2`` routes: health, metadata, ``infer``
- ``codec``: requests into rows and answers into tensors, JSON and binary (pure)

Who may import it: only ``irisserve.serving.wsgi``'s route table, by name, on the first
``/v2`` request (``routes`` then imports ``codec`` when a request needs it). It imports
``protocols``, ``serving``, ``schema``, ``artifact``, ``scorers``; never ``protocols.events``.
"""
