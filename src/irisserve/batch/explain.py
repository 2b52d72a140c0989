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
from irisserve.batch.records import Record
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
        batch: Sequence[Record],
        model: Model,
        inference_args: dict[str, Any] | None = None,
    ) -> Iterable[PredictionResult]:
        """Answer the batch as the function does, then explain the rows it scored."""
        results = list(super().run_inference(batch, model, inference_args))
        scored = [i for i, result in enumerate(results) if result.inference.answer is not None]
        if not scored:
            return results
        limit = self.settings.max_batch_rows
        rows = [parse_body(batch[i].body, model.schema, limit).data[0] for i in scored]
        answers = [results[i].inference.answer for i in scored]
        for index, entry in zip(scored, explanation_objects(model, rows, answers), strict=True):
            result = results[index]
            answer = {**result.inference.answer, EXPLANATION: entry}
            results[index] = result._replace(inference=Outcome(answer=answer))
        return results
