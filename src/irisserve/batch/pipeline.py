"""The batch pipeline: files → records → RunInference → answers and errors, with counts.

``build`` adds the transforms to a Beam pipeline; ``run`` runs one and reads its
counters. Every row read ends in exactly one of the two outputs: ``PREFIX`` (one JSON
line per scored row: its ``id``, or file and line, then the function's answer) or
``PREFIX-errors`` (file, line, raw text, the function's error message and code). A file
that cannot be read is reported there too, and counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.fileio import EmptyMatchTreatment
from apache_beam.metrics.metric import Metrics, MetricsFilter
from apache_beam.ml.inference.base import PredictionResult, RunInference
from apache_beam.options.pipeline_options import PipelineOptions

from irisserve import jsoncodec
from irisserve.batch.answers import Outcome, rejected
from irisserve.batch.handler import METRICS_NAMESPACE, ArtifactModelHandler
from irisserve.batch.records import ID, Record, read_records

__all__ = ["Counts", "build", "run"]

_ERRORS = "errors"
_read = Metrics.counter(METRICS_NAMESPACE, "rows_read")
_scored = Metrics.counter(METRICS_NAMESPACE, "rows_scored")
_rejected = Metrics.counter(METRICS_NAMESPACE, "rows_rejected")
_unreadable = Metrics.counter(METRICS_NAMESPACE, "files_unreadable")


def _error_line(record: Record, outcome: Outcome) -> bytes:
    line: dict[str, Any] = {"file": record.file, "line": record.line, "raw": record.raw}
    if record.id is not None:
        line[ID] = record.id
    return jsoncodec.encode({**line, "error": outcome.error, "code": outcome.code})


class _Unreadable(OSError):
    """A file could not be opened or read to its end."""


def _lines(readable: fileio.ReadableFile) -> Iterator[bytes]:
    """The file's lines; any failure of the file system or decompressor is ``_Unreadable``."""
    try:
        with readable.open() as handle:
            while line := handle.readline():
                yield line
    except Exception as exc:  # OSError, zlib.error, lzma.LZMAError...: all mean unreadable
        raise _Unreadable(f"{type(exc).__name__}: {exc}") from exc


class _ReadRecords(beam.DoFn):
    """A matched file → its records; a record that is not a body → the errors output."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt

    def process(self, readable: fileio.ReadableFile) -> Iterator[Any]:
        path = readable.metadata.path
        try:
            for record in read_records(path, _lines(readable), self.fmt):
                _read.inc()
                if record.error is None:
                    yield record
                else:
                    _rejected.inc()
                    yield beam.pvalue.TaggedOutput(
                        _ERRORS, _error_line(record, rejected(record.error))
                    )
        except _Unreadable as exc:
            _unreadable.inc()
            message = f"the file could not be read: {exc}"
            line = {"file": path, "line": None, "raw": None, "error": message, "code": "unreadable"}
            yield beam.pvalue.TaggedOutput(_ERRORS, jsoncodec.encode(line))


class _Split(beam.DoFn):
    """An inference result → one answer line, or one error line."""

    def process(self, result: PredictionResult) -> Iterator[Any]:
        record: Record = result.example
        outcome: Outcome = result.inference
        if outcome.answer is None:
            _rejected.inc()
            yield beam.pvalue.TaggedOutput(_ERRORS, _error_line(record, outcome))
        else:
            _scored.inc()
            yield jsoncodec.encode({**record.source(), **outcome.answer})


def build(
    pipeline: beam.Pipeline, pattern: str, output: str, fmt: str, handler: ArtifactModelHandler
) -> None:
    """Read ``pattern`` (jsonl or csv), score, write ``output-*`` and ``output-errors-*``."""
    records = (
        pipeline
        | "Match" >> fileio.MatchFiles(pattern, EmptyMatchTreatment.DISALLOW)
        | "Open" >> fileio.ReadMatches()
        | "Records" >> beam.ParDo(_ReadRecords(fmt)).with_outputs(_ERRORS, main="records")
    )
    results = (
        records.records
        | "Score" >> RunInference(handler)
        | "Split" >> beam.ParDo(_Split()).with_outputs(_ERRORS, main="answers")
    )
    decode = beam.Map(bytes.decode)
    (
        results.answers
        | "AnswerText" >> decode
        | "WriteAnswers" >> beam.io.WriteToText(output, file_name_suffix=".jsonl")
    )
    (
        (records[_ERRORS], results[_ERRORS])
        | "AllErrors" >> beam.Flatten()
        | "ErrorText" >> decode
        | "WriteErrors" >> beam.io.WriteToText(f"{output}-errors", file_name_suffix=".jsonl")
    )


@dataclass(frozen=True)
class Counts:
    """What a finished run did, from its Beam metrics."""

    read: int
    scored: int
    rejected: int
    files_unreadable: int
    model_loads: int

    def summary(self) -> str:
        """One line for the console."""
        return (
            f"rows read {self.read}, scored {self.scored}, rejected {self.rejected}; "
            f"files unreadable {self.files_unreadable}; model loads {self.model_loads}"
        )


def _counts(result: beam.runners.runner.PipelineResult) -> Counts:
    metrics = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))
    counters: dict[str, int] = {}
    for item in metrics["counters"]:  # one item per step that counts
        counters[item.key.metric.name] = counters.get(item.key.metric.name, 0) + item.committed
    loads = sum(
        item.committed.count
        for item in metrics["distributions"]
        if item.key.metric.name == "load_model_latency_milli_secs"
    )
    return Counts(
        read=counters.get("rows_read", 0),
        scored=counters.get("rows_scored", 0),
        rejected=counters.get("rows_rejected", 0),
        files_unreadable=counters.get("files_unreadable", 0),
        model_loads=loads,
    )


def run(
    options: PipelineOptions, pattern: str, output: str, fmt: str, handler: ArtifactModelHandler
) -> Counts:
    """Build and run the pipeline to the end; its counts (a failed run raises)."""
    pipeline = beam.Pipeline(options=options)
    build(pipeline, pattern, output, fmt, handler)
    result = pipeline.run()
    result.wait_until_finish()
    return _counts(result)
