"""Cloud Functions (2nd gen) entry points: hand each request to irisserve."""

import flask
import functions_framework
from cloudevents.http import CloudEvent

from irisserve import http

http.warm_up()


@functions_framework.http
def predict(request: flask.Request) -> flask.Response:
    """HTTP: health, model info, single and batch predictions."""
    return http.handle(request)


@functions_framework.cloud_event
def predict_event(event: CloudEvent) -> None:
    """Eventarc (Pub/Sub messagePublished): return to acknowledge, raise to be retried."""
    from irisserve import delivery  # deferred: off the HTTP function's cold path

    delivery.handle_cloud_event(event)
