"""The HTTP side of the function: WSGI handling and the small framework routes are written in.

``serving.wsgi`` is what ``functions/predict/main.py`` hands every request to; it matches a
route, turns every exception into a JSON error through the error table, and logs one line.

- ``wsgi``: route a request to its handler, every exception a JSON error, one log line
- ``routing``: ``Route`` and ``Router``: path and method to a handler; 404 and 405
- ``context``: what every handler receives: the request, its parameters, the settings
- ``responses``: JSON responses from the one encoder, with the right Content-Type
- ``errortable``: the one table, exception type → (HTTP status, error code)
- ``logs``: one Cloud Logging JSON line per event, trace correlation
- ``state``: the one module with global state (settings, model, publisher client), ``reset``
- ``openapi``: ``GET /openapi.json``, the OpenAPI contract of every route
- ``apidocs``: ``GET /docs``, Swagger UI over it

Who may import it: ``functions/predict/main.py`` (``wsgi``); ``irisserve.protocols`` (the
routes use ``context``, ``routing``, ``responses``, ``state``, ``logs``, ``errortable``);
``irisserve.batch`` (``errortable`` only). Never ``schema``, ``artifact``, ``scorers`` or
``packaging``. ``errortable`` imports only ``irisserve.errors``.
"""
