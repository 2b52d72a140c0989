"""Cloud Functions (2nd gen) entry points: hand each request to irisserve."""

import flask
import functions_framework
from cloudevents.http import CloudEvent

from irisserve.serving import wsgi

wsgi.warm_up()


@functions_framework.http
def predict(request: flask.Request) -> flask.Response:
    """HTTP: health, model info, single and batch predictions."""
    return wsgi.handle(request)


@functions_framework.cloud_event
def predict_event(event: CloudEvent) -> None:
    """Eventarc (Pub/Sub messagePublished): return to acknowledge, raise to be retried."""
    from irisserve.protocols.events import delivery

    delivery.handle_cloud_event(event)
