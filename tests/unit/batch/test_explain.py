"""``python -m irisserve.batch --explain``: a real process, a freshly packaged artifact.

Each scored row's answer carries the explanation ``POST /explain`` gives that row (the
same library call), bit for bit whatever rows share its batch; a bad row is rejected as
without ``--explain``; an artifact packaged before explanations fails at once, saying so.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

from irisserve.artifact.folder import open_artifact
from irisserve.packaging import write_artifact
from irisserve.protocols.explain import explanation_objects
from tests.helpers.old_artifact import old_artifact
from tests.helpers.support import IRIS_FEATURES, SETOSA, VIRGINICA

from .test_cli import command


@pytest.fixture(scope="module")
def forest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = load_iris(as_frame=True)
    x = data.data.set_axis(IRIS_FEATURES, axis=1)
    estimator = RandomForestClassifier(10, max_depth=4, random_state=0).fit(x, data.target)
    folder = tmp_path_factory.mktemp("forest")
    write_artifact(estimator, x, folder, name="flowers", version="3", y=data.target)
    return folder


def _explain(tmp_path: Path, model_dir: Path) -> subprocess.CompletedProcess[str]:
    """``--explain`` over ``tmp_path/rows.jsonl`` into ``tmp_path/out``."""
    rows, out = str(tmp_path / "rows.jsonl"), str(tmp_path / "out")
    return command(
        tmp_path, "--input", rows, "--output", out, "--model-dir", str(model_dir), "--explain"
    )


def _answers(tmp_path: Path) -> list[dict]:
    lines = [
        json.loads(line)
        for path in sorted(tmp_path.glob("out-0*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    return sorted(lines, key=lambda answer: answer["id"])


def test_explain_adds_each_rows_explanation(tmp_path: Path, forest: Path) -> None:
    rows = [SETOSA, VIRGINICA, [6.0, 2.9, 4.5, 1.5]] * 20
    lines = [json.dumps({"features": row, "id": i}) for i, row in enumerate(rows)]
    (tmp_path / "rows.jsonl").write_text("\n".join([*lines, "[]"]) + "\n")
    done = _explain(tmp_path, forest)
    assert done.returncode == 0, done.stderr
    assert "scored 60, rejected 1" in done.stdout
    answers = _answers(tmp_path)
    model = open_artifact(forest)
    for answer, row in zip(answers, rows, strict=True):
        predicted = {
            key: value for key, value in answer.items() if key not in ("id", "explanation")
        }
        (alone,) = explanation_objects(model, [row], [predicted])
        assert answer["explanation"] == alone  # bit for bit: JSON floats round-trip
        assert answer["explanation"]["space"] == "probability"


def test_explain_refuses_an_artifact_packaged_before_explanations(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text(json.dumps({"features": SETOSA}) + "\n")
    done = _explain(tmp_path, old_artifact(tmp_path / "old"))
    assert done.returncode == 1
    assert "explain.npz" in done.stderr
    assert "repackage" in done.stderr
