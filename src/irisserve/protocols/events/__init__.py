"""Pub/Sub push and Eventarc CloudEvents: decode, decide, publish, acknowledge.

- ``messages``: a push envelope or a CloudEvent → one message → score it or dead-letter it (pure)
- ``delivery``: a message's way: decide, publish, then acknowledge or nack
- ``_publisher``: publish with the process's one client (held by ``irisserve.serving.state``)

Who may import it: ``functions/predict/main.py`` (``predict_event``) and
``irisserve.protocols.native`` (when a push envelope arrives, deferred off the cold path).
Nothing else; it imports ``protocols`` and ``serving``, never ``protocols.v2``.
"""
