"""The floor: functions-framework serving a function that does nothing.

It answers every request (the harness's predict POST and ``GET /`` alike) with
the same small fixed JSON, so every irisserve figure can be read as a ratio to
what the framework alone costs.
"""

import flask
import functions_framework

_BODY = b'{"prediction":0,"prediction_label":"setosa"}'


@functions_framework.http
def predict(request: flask.Request) -> flask.Response:
    """Ignore the request; answer a fixed JSON body."""
    return flask.Response(_BODY, mimetype="application/json")
