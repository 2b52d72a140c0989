"""Settings read from the environment, each with a safe default."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

from irisserve.errors import ConfigurationError

__all__ = ["BUNDLED_MODEL_DIR", "GcsLocation", "Settings", "project"]

BUNDLED_MODEL_DIR = Path(__file__).parent / "artifacts" / "iris"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_TOPIC = re.compile(r"projects/[^/]+/topics/[^/]+")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")


class GcsLocation(NamedTuple):
    """An artifact folder in Cloud Storage: a bucket and a prefix ("" for the bucket root).

    A NamedTuple like ``Settings``: this module is on every cold start, and a dataclass
    costs more to define."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> GcsLocation:
        """``gs://BUCKET[/PREFIX][/]`` → a location; ``ConfigurationError`` if malformed."""
        bucket, _, prefix = url.removeprefix("gs://").partition("/")
        prefix = prefix.strip("/")
        if not url.startswith("gs://") or not _BUCKET.fullmatch(bucket) or "//" in prefix:
            raise ConfigurationError(
                f"IRISSERVE_MODEL_DIR {url!r} is not gs://BUCKET/PREFIX (a Cloud Storage bucket "
                "name: 3-222 lowercase letters, digits, dots, hyphens, underscores)"
            )
        return cls(bucket, prefix)

    def object_name(self, name: str) -> str:
        """The object holding the folder's file ``name``."""
        return f"{self.prefix}/{name}" if self.prefix else name

    def __str__(self) -> str:
        return f"gs://{self.bucket}/{self.prefix}" if self.prefix else f"gs://{self.bucket}"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigurationError(f"{name} must be a positive integer, got {raw!r}")
    return value


def _float(name: str, default: float, *, allow_zero: bool = False) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    in_range = value > 0 or (allow_zero and value == 0)  # False for NaN
    if not in_range or value == float("inf"):
        kind = "non-negative" if allow_zero else "positive"
        raise ConfigurationError(f"{name} must be a {kind} number, got {raw!r}")
    return value


def _switch(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in _TRUE | _FALSE:
        raise ConfigurationError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {raw!r}")
    return raw in _TRUE


def _topic(name: str) -> str | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    if not _TOPIC.fullmatch(raw):
        raise ConfigurationError(f"{name} must be projects/<project>/topics/<topic>, got {raw!r}")
    return raw


def _model_dir() -> Path | GcsLocation:
    raw = os.environ.get("IRISSERVE_MODEL_DIR", "").strip()
    if not raw:
        return BUNDLED_MODEL_DIR
    if not raw.startswith("gs://"):
        return Path(raw)
    return GcsLocation.parse(raw)


def _sha256(name: str) -> str | None:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return None
    if not _SHA256.fullmatch(raw):
        raise ConfigurationError(f"{name} must be 64 hex digits (a sha256), got {raw!r}")
    return raw


def _scorer() -> str:
    scorer = os.environ.get("IRISSERVE_SCORER", "auto").strip().lower() or "auto"
    if scorer == "linear":
        raise ConfigurationError(
            "IRISSERVE_SCORER=linear: the linear backend (linear.json) was removed; "
            "fast serves the same models pickle-free from scorer.json (repackage an artifact "
            "that has no scorer.json), or use auto"
        )
    if scorer not in {"auto", "fast", "skops", "sklearn"}:
        raise ConfigurationError(
            f"IRISSERVE_SCORER must be auto, fast, skops or sklearn, got {scorer!r}"
        )
    return scorer


def project() -> str | None:
    """The Google Cloud project (``GOOGLE_CLOUD_PROJECT``, else ``GCP_PROJECT``), if set."""
    return os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCP_PROJECT") or None


class Settings(NamedTuple):
    """Configuration of one serving process (immutable).

    Every field has an ``IRISSERVE_*`` environment variable; see the README. A
    NamedTuple: a cold start defines it in about a fifth of a frozen dataclass's 0.4 ms.
    """

    model_dir: Path | GcsLocation = BUNDLED_MODEL_DIR
    model_sha256: str | None = None
    eager_load: bool = False
    scorer: str = "auto"
    max_batch_rows: int = 10_000
    max_body_bytes: int = 4 * 1024 * 1024
    load_wait_seconds: float = 10.0
    retry_after_seconds: int = 5
    result_topic: str | None = None
    dead_letter_topic: str | None = None
    publish_timeout_seconds: float = 10.0
    drift_margin: float = 0.1
    docs: bool = True
    #: Not an ``IRISSERVE_*`` variable: the project trace ids in log lines belong to.
    project: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from ``os.environ``."""
        default = cls()
        return cls(
            model_dir=_model_dir(),
            model_sha256=_sha256("IRISSERVE_MODEL_SHA256"),
            eager_load=_switch("IRISSERVE_EAGER_LOAD", default.eager_load),
            scorer=_scorer(),
            max_batch_rows=_int("IRISSERVE_MAX_BATCH_ROWS", default.max_batch_rows),
            max_body_bytes=_int("IRISSERVE_MAX_BODY_BYTES", default.max_body_bytes),
            load_wait_seconds=_float("IRISSERVE_LOAD_WAIT_SECONDS", default.load_wait_seconds),
            retry_after_seconds=_int("IRISSERVE_RETRY_AFTER_SECONDS", default.retry_after_seconds),
            result_topic=_topic("IRISSERVE_RESULT_TOPIC"),
            dead_letter_topic=_topic("IRISSERVE_DEAD_LETTER_TOPIC"),
            publish_timeout_seconds=_float(
                "IRISSERVE_PUBLISH_TIMEOUT_SECONDS", default.publish_timeout_seconds
            ),
            drift_margin=_float("IRISSERVE_DRIFT_MARGIN", default.drift_margin, allow_zero=True),
            docs=_switch("IRISSERVE_DOCS", default.docs),
            project=project(),
        )
