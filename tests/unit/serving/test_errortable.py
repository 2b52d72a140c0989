"""irisserve.serving.errortable: one table, most specific first; anything unknown is a 500."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from irisserve import errors
from irisserve.serving.errortable import ERROR_TABLE, error_status


def test_error_table_is_most_specific_first() -> None:
    kinds = [kind for kind, _, _ in ERROR_TABLE]
    for index, kind in enumerate(kinds):
        for later in kinds[index + 1 :]:
            assert not issubclass(later, kind), f"{later.__name__} is shadowed by {kind.__name__}"


def test_every_exception_irisserve_raises_has_a_row() -> None:
    listed = {kind for kind, _, _ in ERROR_TABLE}
    assert {getattr(errors, name) for name in errors.__all__} == listed


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (errors.MalformedJSON("x"), (400, "malformed_json")),
        (errors.InvalidInput("x"), (400, "invalid_input")),
        (errors.BatchTooLarge("x"), (413, "batch_too_large")),
        (errors.ModelUnavailable("x"), (503, "model_unavailable")),
        (errors.UntrustedArtifact("x"), (503, "artifact_untrusted")),
        (errors.ConfigurationError("x"), (500, "misconfigured")),
        (KeyError("x"), (500, "internal")),
        (ValueError("x"), (500, "internal")),
    ],
)
def test_status_and_code(exc: BaseException, expected: tuple[int, str]) -> None:
    assert error_status(exc) == expected


def test_the_table_imports_only_the_exceptions() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, irisserve.serving.errortable;"
            " print(json.dumps(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = {name for name in json.loads(done.stdout) if name.startswith("irisserve")}
    assert loaded == {
        "irisserve",
        "irisserve.serving",
        "irisserve.serving.errortable",
        "irisserve.errors",
    }
