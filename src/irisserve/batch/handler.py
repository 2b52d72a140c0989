"""The ``RunInference`` model handler: an irisserve artifact folder, scored like the function.

An example is a :class:`~irisserve.batch.records.Chunk` of rows, scored as one batch; its
prediction is the list of :data:`~irisserve.batch.answers.Outcome`\\ s the function gives
each of its bodies alone (its answer or its error). The model is verified and loaded
through the library once per worker process and shared by that process's threads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from irisserve.artifact.model import Model
from irisserve.batch._model_dir import open_model
from irisserve.batch.answers import Outcome, answer_bodies
from irisserve.batch.records import Chunk
from irisserve.config import BUNDLED_MODEL_DIR, Settings

__all__ = ["METRICS_NAMESPACE", "ArtifactModelHandler"]

#: Namespace of RunInference's metrics and the pipeline's row counters.
METRICS_NAMESPACE = "irisserve"


class ArtifactModelHandler(ModelHandler[Chunk, list[Outcome], Model]):
    """Loads ``model_dir`` (local or any ``FileSystems`` path) and answers chunks of rows.

    ``model_dir=None`` is the artifact bundled with the package, found on the worker.

    ``settings`` carries the function's choices that shape an answer: the scorer
    (``IRISSERVE_SCORER``), the manifest pin (``IRISSERVE_MODEL_SHA256``), the drift
    margin and the batch limit of a body.
    """

    def __init__(self, model_dir: str | None = None, settings: Settings | None = None) -> None:
        # Not shared across processes (large_model): the model is a few KB and loads in
        # under a millisecond, and a shared model is a proxy every batch would cross.
        # A chunk is already a batch sized by its bytes: BatchElements passes each alone.
        super().__init__(min_batch_size=1, max_batch_size=1)
        self.model_dir = model_dir
        self.settings = settings or Settings()

    def load_model(self) -> Model:
        """Verify and load the artifact (sha256s, pin, versions, scorer choice)."""
        settings = self.settings
        directory = self.model_dir or str(BUNDLED_MODEL_DIR)
        return open_model(directory, settings.scorer, settings.model_sha256)

    def run_inference(
        self,
        batch: Sequence[Chunk],
        model: Model,
        inference_args: dict[str, Any] | None = None,
    ) -> Iterable[PredictionResult]:
        """Validate, score and answer each chunk's bodies in one library call."""
        return [
            PredictionResult(chunk, answer_bodies(model, chunk.bodies, self.settings))
            for chunk in batch
        ]

    def get_num_bytes(self, batch: Sequence[Chunk]) -> int:
        """The batch's size as its input bytes (Beam's default pickles the batch)."""
        return sum(chunk.size for chunk in batch)

    def get_metrics_namespace(self) -> str:
        """RunInference's metrics (model loads, batch latency) under ``irisserve``."""
        return METRICS_NAMESPACE
