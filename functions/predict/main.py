"""Cloud Functions (2nd gen) entry points: hand each request to irisserve."""

import flask
import functions_framework

from irisserve import http

http.warm_up()


@functions_framework.http
def predict(request: flask.Request) -> flask.Response:
    """HTTP: health, model info, single and batch predictions."""
    return http.handle(request)
