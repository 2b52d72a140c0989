"""The batch pipeline: files → chunks of rows → RunInference → answers and errors, with counts.

``build`` adds the transforms to a Beam pipeline; ``run`` runs one and reads its
counters. A Beam element is a chunk of a file's lines (``irisserve.batch.records``), so
Beam's per-element work is paid per chunk, not per row. Every row read ends in exactly one
of the two outputs: ``PREFIX`` (one JSON line per scored row: its ``id``, or file and line,
then the function's answer) or ``PREFIX-errors`` (file, line, raw text, the function's error
message and code). A file that cannot be read is reported there too, and counted.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.fileio import EmptyMatchTreatment
from apache_beam.metrics.metric import Metrics, MetricsFilter
from apache_beam.ml.inference.base import PredictionResult, RunInference
from apache_beam.options.pipeline_options import PipelineOptions

from irisserve.batch.handler import METRICS_NAMESPACE, ArtifactModelHandler
from irisserve.batch.output import chunk_lines, unreadable_line
from irisserve.batch.records import CHUNK_BYTES, Chunk, read_chunks

__all__ = ["Counts", "build", "run"]

_ERRORS = "errors"
_read = Metrics.counter(METRICS_NAMESPACE, "rows_read")
_scored = Metrics.counter(METRICS_NAMESPACE, "rows_scored")
_rejected = Metrics.counter(METRICS_NAMESPACE, "rows_rejected")
_unreadable = Metrics.counter(METRICS_NAMESPACE, "files_unreadable")


class _ChunkCoder(beam.coders.Coder):
    """Beam's ``PickleCoder`` for chunks (what Beam used for them anyway), but weighing a
    chunk by its bytes: Beam samples elements' sizes for its metrics, and pickling a chunk
    of a thousand bodies to weigh it took milliseconds (83 times on 200,000 rows)."""

    _pickled = beam.coders.PickleCoder()

    def encode(self, chunk: Chunk) -> bytes:
        encoded: bytes = self._pickled.encode(chunk)
        return encoded

    def decode(self, data: bytes) -> Chunk:
        chunk: Chunk = self._pickled.decode(data)
        return chunk

    def is_deterministic(self) -> bool:
        return False

    def estimate_size(self, chunk: Chunk) -> int:
        return chunk.size


beam.coders.registry.register_coder(Chunk, _ChunkCoder)


class _Unreadable(OSError):
    """A file could not be opened or read to its end."""


def _blocks(readable: fileio.ReadableFile) -> Iterator[bytes]:
    """The file in blocks; any failure of the file system or decompressor is ``_Unreadable``."""
    try:
        with readable.open() as handle:
            while block := handle.read(CHUNK_BYTES):
                yield block
    except Exception as exc:  # OSError, zlib.error, lzma.LZMAError...: all mean unreadable
        raise _Unreadable(f"{type(exc).__name__}: {exc}") from exc


class _ReadChunks(beam.DoFn):
    """A matched file → its chunks of rows; a file that cannot be read → one error line."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt

    def setup(self) -> None:
        """Move the worker's objects so far (Beam's, the libraries') out of the garbage
        collector's sight: each full collection walked all of them, 9 took 1.7 s of a
        200,000-row run (docs/batch.md); the chunks' own garbage is still collected."""
        gc.freeze()

    def process(self, readable: fileio.ReadableFile) -> Iterator[Any]:
        path = readable.metadata.path
        try:
            for chunk in read_chunks(path, _blocks(readable), self.fmt):
                _read.inc(len(chunk))
                yield chunk
        except _Unreadable as exc:
            _unreadable.inc()
            yield beam.pvalue.TaggedOutput(
                _ERRORS, unreadable_line(path, f"the file could not be read: {exc}")
            )


class _Split(beam.DoFn):
    """A scored chunk → its answer lines and its error lines, each as one element."""

    def process(self, result: PredictionResult) -> Iterator[Any]:
        lines = chunk_lines(result.example, result.inference)
        _scored.inc(lines.scored)
        _rejected.inc(lines.rejected)
        if lines.answers:
            yield lines.answers
        if lines.errors:
            yield beam.pvalue.TaggedOutput(_ERRORS, lines.errors)


def build(
    pipeline: beam.Pipeline, pattern: str, output: str, fmt: str, handler: ArtifactModelHandler
) -> None:
    """Read ``pattern`` (jsonl or csv), score, write ``output-*`` and ``output-errors-*``.

    An element written holds many lines: ``WriteToText`` ends each element with a newline.
    """
    chunks = (
        pipeline
        | "Match" >> fileio.MatchFiles(pattern, EmptyMatchTreatment.DISALLOW)
        | "Open" >> fileio.ReadMatches()
        | "Records"
        >> beam.ParDo(_ReadChunks(fmt))
        .with_output_types(Chunk)
        .with_outputs(_ERRORS, main="chunks")
    )
    results = (
        chunks.chunks
        | "Score" >> RunInference(handler)
        | "Split" >> beam.ParDo(_Split()).with_outputs(_ERRORS, main="answers")
    )
    results.answers | "WriteAnswers" >> beam.io.WriteToText(output, file_name_suffix=".jsonl")
    (
        (chunks[_ERRORS], results[_ERRORS])
        | "AllErrors" >> beam.Flatten()
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
