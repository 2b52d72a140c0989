"""``python -m irisserve.batch`` as users run it: a real process, its output and exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.support import REPO, SETOSA


def command(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "irisserve.batch", *args],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_scores_a_file_and_prints_the_counts(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"features": SETOSA, "id": 1}) + "\n" + "[]\n")
    done = command(tmp_path, "--input", str(rows), "--output", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        "rows read 2, scored 1, rejected 1; files unreadable 0; model loads 1"
    )
    (answers,) = tmp_path.glob("out-0*.jsonl")
    assert json.loads(answers.read_text())["prediction_label"] == "setosa"


def test_a_bad_setting_is_a_usage_error_with_the_function_s_message(tmp_path: Path) -> None:
    done = command(tmp_path, "--input", "x", "--output", "y", IRISSERVE_SCORER="fastest")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: IRISSERVE_SCORER must be auto, fast, skops or sklearn, got 'fastest'"
    )


def test_an_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    done = command(tmp_path, "--input", "x", "--output", "y", "--format", "xml")
    assert done.returncode == 2
    assert "invalid choice: 'xml'" in done.stderr
