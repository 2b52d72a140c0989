"""The command line: parse our flags, hand the rest to Beam, print the counts, set the exit code.

Exit status: 0 when every file was read (rejected rows are reported, not failures),
1 when a file could not be read or the pipeline failed (the error is printed: for an
artifact it is the function's message), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from irisserve.batch.handler import ArtifactModelHandler
from irisserve.batch.pipeline import run
from irisserve.batch.records import FORMATS
from irisserve.config import Settings
from irisserve.errors import ConfigurationError, MissingExtra, ModelUnavailable, NotExplainable

__all__ = ["LOCAL_RUNNER", "main", "parser"]

#: The runner when none is given. Beam's DirectRunner first tries Prism, which downloads
#: a Go binary on first use; FnApiRunner is the DirectRunner's own batch engine.
LOCAL_RUNNER = "FnApiRunner"


def parser() -> argparse.ArgumentParser:
    """Our flags; anything else is a Beam pipeline option (--runner, --project, ...)."""
    parse = argparse.ArgumentParser(
        prog="python -m irisserve.batch",
        description="Score JSONL or CSV files with an irisserve artifact, as the function would.",
    )
    parse.add_argument("--input", required=True, help="file pattern (local, gs://, ...)")
    parse.add_argument("--output", required=True, help="prefix of the output files")
    parse.add_argument(
        "--model-dir",
        default=os.environ.get("IRISSERVE_MODEL_DIR") or None,
        help="artifact folder (local, gs://, ...); default IRISSERVE_MODEL_DIR or the bundled one",
    )
    parse.add_argument("--format", choices=sorted(FORMATS), default="jsonl")
    parse.add_argument(
        "--explain",
        action="store_true",
        help="add each scored row's exact feature attributions (as POST /explain answers)",
    )
    return parse


def _handler(explain: bool) -> type[ArtifactModelHandler]:
    if not explain:
        return ArtifactModelHandler
    from irisserve.batch.explain import ExplainingModelHandler  # --explain only

    return ExplainingModelHandler


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the exit status."""
    args, beam_args = parser().parse_known_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = PipelineOptions(beam_args)
    standard = options.view_as(StandardOptions)
    standard.runner = standard.runner or LOCAL_RUNNER
    try:
        handler = _handler(args.explain)(args.model_dir, settings)
        model = handler.load_model()  # fail here, not on every worker
        print(f"model {model.version} ({model.backend}) verified", file=sys.stderr)
        counts = run(options, args.input, args.output, args.format, handler)
    except (ModelUnavailable, NotExplainable, MissingExtra) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a failed pipeline: Beam wraps the worker's exception
        print(f"error: the pipeline failed: {exc}", file=sys.stderr)
        return 1
    print(counts.summary())
    return 1 if counts.files_unreadable else 0
