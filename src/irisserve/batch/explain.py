"""``--explain``: each scored row's answer also carries its ``explanation``.

The entry ``POST /explain`` answers for that row (``irisserve.protocols.explain``): outputs,
space, baseline, attributions per input feature, prediction. Rows are answered by
``ArtifactModelHandler`` first, unchanged; the scored ones are then explained together
(a row's attributions do not depend on the rows beside it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from apache_beam.ml.inference.base import PredictionResult

from irisserve.artifact.model import Model
from irisserve.batch.answers import Outcome
from irisserve.batch.handler import ArtifactModelHandler
from irisserve.batch.records import Chunk
from irisserve.explain.explainer import explainer_for
from irisserve.protocols.explain import explanation_objects
from irisserve.schema import parse_body

__all__ = ["EXPLANATION", "ExplainingModelHandler"]

#: The key of an answer's explanation.
EXPLANATION = "explanation"


class ExplainingModelHandler(ArtifactModelHandler):
    """``ArtifactModelHandler`` whose answers carry each row's explanation."""

    def load_model(self) -> Model:
        """Load the artifact and its explainer (an artifact that cannot explain fails here)."""
        model = super().load_model()
        explainer_for(model)
        return model

    def run_inference(
        self,
        batch: Sequence[Chunk],
        model: Model,
        inference_args: dict[str, Any] | None = None,
    ) -> Iterable[PredictionResult]:
        """Answer each chunk as the function does, then explain the rows it scored."""
        return [
            result._replace(inference=self._explained(model, result.example, result.inference))
            for result in super().run_inference(batch, model, inference_args)
        ]

    def _explained(self, model: Model, chunk: Chunk, outcomes: list[Outcome]) -> list[Outcome]:
        answers = {i: o for i, o in enumerate(outcomes) if isinstance(o, dict)}
        if not answers:
            return outcomes
        limit = self.settings.max_batch_rows
        rows = [parse_body(chunk.bodies[i], model.schema, limit).data[0] for i in answers]
        entries = explanation_objects(model, rows, list(answers.values()))
        explained = list(outcomes)
        for (index, answer), entry in zip(answers.items(), entries, strict=True):
            explained[index] = {**answer, EXPLANATION: entry}
        return explained
