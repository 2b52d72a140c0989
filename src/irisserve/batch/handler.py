"""The ``RunInference`` model handler: an irisserve artifact folder, scored like the function.

Examples are :class:`~irisserve.batch.records.Record`\\ s holding native bodies; each
prediction is the :class:`~irisserve.batch.answers.Outcome` the function gives that
body alone (its answer or its error). The model is verified and loaded through the
library once per worker process and shared by that process's threads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from irisserve.artifact.model import Model
from irisserve.batch._model_dir import open_model
from irisserve.batch.answers import Outcome, answer_bodies
from irisserve.batch.records import Record
from irisserve.config import BUNDLED_MODEL_DIR, Settings

__all__ = [
    "MAX_BATCH_BYTES",
    "METRICS_NAMESPACE",
    "MIN_BATCH_BYTES",
    "ArtifactModelHandler",
    "record_bytes",
]

#: Namespace of RunInference's metrics and the pipeline's row counters.
METRICS_NAMESPACE = "irisserve"
#: Batch bounds handed to ``BatchElements``, in bytes of input text: about 85 and 1,400
#: Iris JSONL rows (see docs/batch.md for the measurement).
MIN_BATCH_BYTES = 4 * 1024
MAX_BATCH_BYTES = 64 * 1024


def record_bytes(record: Record) -> int:
    """A record's weight in a batch: the length of its input text."""
    return len(record.raw)


class ArtifactModelHandler(ModelHandler[Record, Outcome, Model]):
    """Loads ``model_dir`` (local or any ``FileSystems`` path) and answers batches of records.

    ``model_dir=None`` is the artifact bundled with the package, found on the worker.

    ``settings`` carries the function's choices that shape an answer: the scorer
    (``IRISSERVE_SCORER``), the manifest pin (``IRISSERVE_MODEL_SHA256``), the drift
    margin and the batch limit of a body.
    """

    def __init__(
        self,
        model_dir: str | None = None,
        settings: Settings | None = None,
        *,
        min_batch_bytes: int = MIN_BATCH_BYTES,
        max_batch_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        # Not shared across processes (large_model): the model is a few KB and loads in
        # under a millisecond, and a shared model is a proxy every batch would cross.
        # BatchElements adds up ``element_size_fn`` and keeps the sum between the bounds.
        super().__init__(
            min_batch_size=min_batch_bytes,
            max_batch_size=max_batch_bytes,
            element_size_fn=record_bytes,
        )
        self.model_dir = model_dir
        self.settings = settings or Settings()

    def load_model(self) -> Model:
        """Verify and load the artifact (sha256s, pin, versions, scorer choice)."""
        settings = self.settings
        directory = self.model_dir or str(BUNDLED_MODEL_DIR)
        return open_model(directory, settings.scorer, settings.model_sha256)

    def run_inference(
        self,
        batch: Sequence[Record],
        model: Model,
        inference_args: dict[str, Any] | None = None,
    ) -> Iterable[PredictionResult]:
        """Validate, score and answer the batch's bodies in one library call."""
        outcomes = answer_bodies(model, [record.body for record in batch], self.settings)
        return [
            PredictionResult(record, outcome, model.version)
            for record, outcome in zip(batch, outcomes, strict=True)
        ]

    def get_num_bytes(self, batch: Sequence[Record]) -> int:
        """The batch's size as its input text (Beam's default pickles the batch)."""
        return sum(map(record_bytes, batch))

    def get_metrics_namespace(self) -> str:
        """RunInference's metrics (model loads, batch latency) under ``irisserve``."""
        return METRICS_NAMESPACE
