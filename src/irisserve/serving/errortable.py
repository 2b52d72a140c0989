"""One table: exception type → (HTTP status, error code), most specific first.

The HTTP layer answers with it and Pub/Sub delivery names dead letters and
retries with it; neither depends on the other for it. Only ``irisserve.errors``
is imported here, so any layer can use the table without an import cycle.
"""

from __future__ import annotations

from irisserve.errors import (
    ArtifactIntegrityError,
    ArtifactMissing,
    BatchTooLarge,
    ConfigurationError,
    IncompatibleArtifact,
    InvalidInput,
    MalformedEnvelope,
    MalformedJSON,
    MethodNotAllowed,
    MissingExtra,
    ModelLoadTimeout,
    ModelUnavailable,
    NotBase64,
    NotExplainable,
    NotFound,
    PayloadTooLarge,
    PublishFailed,
    StorageForbidden,
    StorageUnavailable,
    UnsupportedMediaType,
    UntrustedArtifact,
)

__all__ = ["ERROR_TABLE", "INTERNAL", "error_status"]

#: Exception type → (HTTP status, error code). The first matching row wins.
ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (MalformedJSON, 400, "malformed_json"),
    (BatchTooLarge, 413, "batch_too_large"),
    (MalformedEnvelope, 400, "malformed_envelope"),
    (NotBase64, 400, "not_base64"),
    (InvalidInput, 400, "invalid_input"),
    (PayloadTooLarge, 413, "payload_too_large"),
    (UnsupportedMediaType, 415, "unsupported_media_type"),
    (NotFound, 404, "not_found"),
    (MethodNotAllowed, 405, "method_not_allowed"),
    (NotExplainable, 409, "repackage_to_explain"),
    (MissingExtra, 501, "not_implemented"),
    (ModelLoadTimeout, 503, "model_loading"),
    (StorageUnavailable, 503, "model_loading"),
    (StorageForbidden, 503, "artifact_forbidden"),
    (ArtifactMissing, 503, "artifact_missing"),
    (UntrustedArtifact, 503, "artifact_untrusted"),
    (ArtifactIntegrityError, 503, "artifact_corrupt"),
    (IncompatibleArtifact, 503, "artifact_incompatible"),
    (ModelUnavailable, 503, "model_unavailable"),
    (PublishFailed, 503, "publish_failed"),
    (ConfigurationError, 500, "misconfigured"),
)

#: The status and code of anything the table does not list: a bug.
INTERNAL = (500, "internal")


def error_status(exc: BaseException) -> tuple[int, str]:
    """The status and code for an exception; anything unknown is a bug (500 ``internal``)."""
    for kind, status, code in ERROR_TABLE:
        if isinstance(exc, kind):
            return status, code
    return INTERNAL
