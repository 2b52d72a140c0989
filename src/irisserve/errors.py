"""The exceptions irisserve raises.

Each subclasses a built-in, so callers can catch what they already know
(``ValueError``, ``LookupError``...). HTTP statuses are *not* attached here:
``irisserve.serving.errortable`` maps exception types to statuses in one table.
"""

from __future__ import annotations

__all__ = [
    "ArtifactIntegrityError",
    "ArtifactMissing",
    "BatchTooLarge",
    "ConfigurationError",
    "IncompatibleArtifact",
    "InvalidInput",
    "MalformedEnvelope",
    "MalformedJSON",
    "MethodNotAllowed",
    "MissingExtra",
    "ModelLoadTimeout",
    "ModelUnavailable",
    "NotBase64",
    "NotExplainable",
    "NotFound",
    "PayloadTooLarge",
    "PublishFailed",
    "StorageForbidden",
    "StorageUnavailable",
    "UnsupportedMediaType",
    "UntrustedArtifact",
]


class InvalidInput(ValueError):
    """The request body does not describe rows the model can score."""


class MalformedJSON(InvalidInput):
    """The request body is not strict JSON (RFC 8259) in UTF-8."""


class BatchTooLarge(InvalidInput):
    """More rows than the configured limit."""


class MalformedEnvelope(InvalidInput):
    """A Pub/Sub push envelope or CloudEvent that does not hold a readable Pub/Sub message."""


class NotBase64(InvalidInput):
    """A Pub/Sub message's ``data`` is not base64."""


class PayloadTooLarge(ValueError):
    """The request body is larger than the configured byte limit."""


class UnsupportedMediaType(ValueError):
    """The request body is not declared as JSON."""


class NotFound(LookupError):
    """No route serves this path."""


class MethodNotAllowed(LookupError):
    """The path exists but not for this HTTP method."""

    def __init__(self, message: str, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allowed = allowed


class ModelUnavailable(RuntimeError):
    """The model cannot be served right now; retrying later may succeed."""


class ArtifactMissing(ModelUnavailable, FileNotFoundError):
    """The artifact folder or one of its files does not exist."""


class ArtifactIntegrityError(ModelUnavailable):
    """A file does not match the sha256 its manifest records, or the manifest is malformed."""


class UntrustedArtifact(ArtifactIntegrityError):
    """Not the artifact this process trusts: a manifest other than the pinned one, or a
    skops file naming a type outside the trusted list. Nothing in it was deserialised."""


class IncompatibleArtifact(ModelUnavailable):
    """The artifact was trained with library versions this process does not run."""


class ModelLoadTimeout(ModelUnavailable, TimeoutError):
    """Another request is still loading the model and did not finish in time."""


class StorageForbidden(ModelUnavailable, PermissionError):
    """Cloud Storage refused to let this process's credentials read the artifact."""


class StorageUnavailable(ModelUnavailable, ConnectionError):
    """Cloud Storage could not be reached, or did not answer in time; retrying may succeed."""


class PublishFailed(RuntimeError):
    """A message could not be published to a Pub/Sub topic; retrying later may succeed."""


class ConfigurationError(ValueError):
    """An ``IRISSERVE_*`` environment variable holds a value that cannot be used."""


class NotExplainable(ValueError):
    """The artifact lacks what explaining its model needs (packaged before explanations)."""


class MissingExtra(RuntimeError):
    """The request needs an optional extra (``irisserve[explain]``) this process lacks."""
