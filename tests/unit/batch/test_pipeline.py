"""Real pipelines on the local runner over files made here, checked against the function.

Each valid row's output line, less its id (or file and line), must equal the function's
answer to that row sent alone (functions-framework's test client); each bad row's error
line must carry the function's message and code. Every row read is scored or rejected.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from irisserve.batch import cli
from irisserve.batch.handler import ArtifactModelHandler
from irisserve.batch.pipeline import Counts, build, run
from irisserve.serving import state
from tests.helpers.support import BREAKAGES, REPO, SETOSA, break_artifact, copy_bundled
from tests.helpers.support import IRIS_FEATURES as NAMES

JSON = "application/json"

#: JSONL lines the function refuses, one of each kind it knows (as raw bytes on one line).
BAD_LINES = [
    b'{"features": [1, 2',
    b"{'features': [5.1, 3.5, 1.4, 0.2]}",
    b'{"features": [NaN, 3.5, 1.4, 0.2]}',
    b'{"caf\xe9": 1}',
    b'{"features": [' + b"9" * 4301 + b", 3.5, 1.4, 0.2]}",
    b"[" * 30_000 + b"]" * 30_000,
    b"42",
    b"null",
    b"{}",
    b'{"feature": [5.1, 3.5, 1.4, 0.2]}',
    b'{"features": [5.1, 3.5, 1.4, 0.2], "instances": []}',
    b'{"features": {"sepal_length": 1, "sepal_width": 2, "petal_length": 3}}',
    b'{"features": {"sepal_length": 1, "sepal_width": 2, "petal_length": 3, "petal_width": 4, '
    b'"colour": 1}}',
    b'{"features": [3.5, 1.4, 0.2]}',
    b'{"features": ["5.1", 3.5, 1.4, 0.2]}',
    b'{"features": [true, 3.5, 1.4, 0.2]}',
    b'{"features": [null, 3.5, 1.4, 0.2]}',
    b'{"features": null}',
    b'{"features": [[5.1], 3.5, 1.4, 0.2]}',
    b'{"features": [1e400, 3.5, 1.4, 0.2]}',
    b'{"features": [' + b"1" * 400 + b", 3.5, 1.4, 0.2]}",
    b'{"features": [1e308, 1e308, 1e308, 1e308]}',
    b'{"instances": []}',
    b'{"instances": [[5.1, 3.5, 1.4, 0.2], [1, 2, "abc", 4]]}',
]


def random_row(rng: random.Random) -> list[float]:
    return [round(rng.uniform(-1.0, 9.0), rng.choice([1, 3, 17])) for _ in NAMES]


@dataclass
class Run:
    """One finished command: its exit status, printed counts and output lines."""

    status: int
    stdout: str
    stderr: str
    answers: list[dict[str, Any]]
    errors: list[dict[str, Any]]


def run_command(argv: list[str], output: Path) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main([*argv, "--output", str(output / "scored")])

    def lines(pattern: str) -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for path in sorted(output.glob(pattern))
            for line in path.read_text().splitlines()
        ]

    return Run(status, out.getvalue(), err.getvalue(), lines("scored-0*"), lines("scored-errors-*"))


def function_reply(client: Any, body: bytes) -> tuple[int, dict[str, Any]]:
    response = client.post("/predict", data=body, content_type=JSON)
    return response.status_code, response.get_json()


def without_source(line: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in line.items() if key not in ("id", "file", "line")}


@dataclass
class JsonlCase:
    """The JSONL input: bodies by (file, line), and the run over it."""

    bodies: dict[tuple[str, int], bytes]  # what the function is sent for that line
    ids: dict[tuple[str, int], Any]
    bad: set[tuple[str, int]]
    run: Run


@pytest.fixture(scope="module")
def jsonl(tmp_path_factory: pytest.TempPathFactory) -> JsonlCase:
    folder = tmp_path_factory.mktemp("jsonl")
    rng = random.Random(16)
    bodies: dict[tuple[str, int], bytes] = {}
    ids: dict[tuple[str, int], Any] = {}
    bad: set[tuple[str, int]] = set()
    bad_lines = list(BAD_LINES)
    for index in range(3):
        path = folder / "in" / f"part-{index}.jsonl"
        path.parent.mkdir(exist_ok=True)
        lines = []
        for number in range(1, 121):
            key = (str(path), number)
            if number % 13 == 0 and bad_lines:
                lines.append(bad_lines.pop())
                bodies[key] = lines[-1]
                bad.add(key)
                continue
            row: Any = random_row(rng)
            if number % 3 == 0:
                row = dict(zip(NAMES, row, strict=True))
            body = {"features": row}
            bodies[key] = json.dumps(body).encode()
            if number % 2:
                ids[key] = f"{index}-{number}" if number % 4 == 1 else index * 1000 + number
                body = {"id": ids[key], **body}
            lines.append(json.dumps(body).encode())
        path.write_bytes(b"\n".join(lines) + b"\n\n")
    assert not bad_lines, "every bad kind is in some file"
    options = ["--direct_running_mode", "multi_threading", "--direct_num_workers", "2"]
    command = ["--input", str(folder / "in" / "*.jsonl"), *options]
    return JsonlCase(bodies, ids, bad, run_command(command, folder / "out"))


def test_every_row_read_is_scored_or_rejected_and_counted(jsonl: JsonlCase) -> None:
    run = jsonl.run
    assert run.status == 0, run.stderr
    assert len(run.answers) + len(run.errors) == len(jsonl.bodies) == 360
    assert len(run.errors) == len(jsonl.bad) == len(BAD_LINES)
    expected = Counts(
        read=360,
        scored=360 - len(BAD_LINES),
        rejected=len(BAD_LINES),
        files_unreadable=0,
        model_loads=1,
    )
    assert run.stdout.strip() == expected.summary()


def test_each_answer_is_the_function_s_answer_to_the_row_alone(
    jsonl: JsonlCase, client: Any
) -> None:
    by_id = {value: key for key, value in jsonl.ids.items()}
    seen = set()
    for line in jsonl.run.answers:
        key = by_id[line["id"]] if "id" in line else (line["file"], line["line"])
        assert ("id" in line) == (key in jsonl.ids)
        seen.add(key)
        status, answer = function_reply(client, jsonl.bodies[key])
        assert status == 200
        assert without_source(line) == answer
    assert seen == set(jsonl.bodies) - jsonl.bad


def test_each_bad_row_has_the_function_s_error_with_its_source(
    jsonl: JsonlCase, client: Any
) -> None:
    for line in jsonl.run.errors:
        key = (line["file"], line["line"])
        assert key in jsonl.bad
        raw = jsonl.bodies[key]
        status, answer = function_reply(client, raw)
        assert status in (400, 413)
        assert (line["error"], line["code"]) == (answer["error"], answer["code"])
        assert line["raw"] == raw.decode(errors="replace")


def test_csv_rows_are_answered_as_their_named_bodies(tmp_path: Path, client: Any) -> None:
    rng = random.Random(61)
    expected: dict[str, bytes] = {}
    for index in range(2):
        rows = ["id,sepal_length,sepal_width,petal_length,petal_width"]
        for number in range(50):
            values = random_row(rng)
            row_id = f"c{index}-{number}"
            rows.append(",".join([row_id, *map(repr, values)]))
            expected[row_id] = json.dumps(
                {"features": dict(zip(NAMES, values, strict=True))}
            ).encode()
        rows += ["bad-cell,5.1,abc,1.4,0.2", "short,1,2,3", ",,,,"]
        (tmp_path / f"in-{index}.csv").write_text("\n".join(rows) + "\n")
    run = run_command(["--input", str(tmp_path / "in-*.csv"), "--format", "csv"], tmp_path / "out")
    assert run.status == 0, run.stderr
    assert "rows read 106, scored 100, rejected 6" in run.stdout
    assert {line["id"] for line in run.answers} == set(expected)
    for line in run.answers:
        assert without_source(line) == function_reply(client, expected[line["id"]])[1]
    errors = sorted((line.get("id", "-"), line["error"]) for line in run.errors)
    assert errors == sorted(
        [
            ("bad-cell", 'features.sepal_width: expected a finite number, got "abc"'),
            ("bad-cell", 'features.sepal_width: expected a finite number, got "abc"'),
            ("-", "line has 4 cells, the header has 5"),
            ("-", "line has 4 cells, the header has 5"),
            ("-", "features.sepal_length: expected a finite number, got null"),
            ("-", "features.sepal_length: expected a finite number, got null"),
        ]
    )


def test_an_unreadable_file_is_reported_and_fails_the_command(tmp_path: Path) -> None:
    (tmp_path / "good.jsonl").write_text(json.dumps({"features": SETOSA}) + "\n")
    (tmp_path / "broken.jsonl.gz").write_bytes(b"not gzip at all")
    run = run_command(["--input", str(tmp_path / "*.jsonl*")], tmp_path / "out")
    assert run.status == 1
    assert "rows read 1, scored 1, rejected 0; files unreadable 1" in run.stdout
    (error,) = run.errors
    assert error["file"] == str(tmp_path / "broken.jsonl.gz")
    assert error["code"] == "unreadable"
    assert error["error"].startswith("the file could not be read: ")


def test_no_file_matching_the_pattern_fails_the_command(tmp_path: Path) -> None:
    run = run_command(["--input", str(tmp_path / "nothing-*.jsonl")], tmp_path / "out")
    assert run.status == 1
    assert "nothing-*.jsonl" in run.stderr


def function_error(client: Any, monkeypatch: pytest.MonkeyPatch, model_dir: Path) -> str:
    monkeypatch.setenv("IRISSERVE_MODEL_DIR", str(model_dir))
    state.reset()
    status, answer = function_reply(client, json.dumps({"features": SETOSA}).encode())
    assert status == 503
    message: str = answer["error"]
    return message


@pytest.mark.parametrize("how", ["missing", "tampered", "pinned"])
def test_a_broken_artifact_stops_the_command_with_the_function_s_message(
    how: str, tmp_path: Path, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Missing, tampered, or not the manifest IRISSERVE_MODEL_SHA256 pins."""
    model_dir = copy_bundled(tmp_path / "model")
    if how == "pinned":
        monkeypatch.setenv("IRISSERVE_MODEL_SHA256", "0" * 64)
    else:
        break_artifact(model_dir, how)
    message = function_error(client, monkeypatch, model_dir)
    assert ("IRISSERVE_MODEL_SHA256 pins" if how == "pinned" else BREAKAGES[how][1]) in message
    (tmp_path / "in.jsonl").write_text(json.dumps({"features": SETOSA}) + "\n")
    command = ["--input", str(tmp_path / "in.jsonl"), "--model-dir", str(model_dir)]
    run = run_command(command, tmp_path / "out")
    assert run.status == 1
    assert run.stderr.strip() == f"error: {message}"
    assert not list((tmp_path / "out").glob("*"))


def test_an_artifact_tampered_after_launch_fails_the_pipeline_on_the_worker(
    tmp_path: Path, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = copy_bundled(tmp_path / "model")
    break_artifact(model_dir, "tampered")
    message = function_error(client, monkeypatch, model_dir)
    (tmp_path / "in.jsonl").write_text(json.dumps({"features": SETOSA}) + "\n")
    from apache_beam.options.pipeline_options import PipelineOptions

    options = PipelineOptions(["--runner", cli.LOCAL_RUNNER])
    handler = ArtifactModelHandler(str(model_dir))
    with pytest.raises(Exception, match="sha256") as failure:
        run(options, str(tmp_path / "in.jsonl"), str(tmp_path / "out"), "jsonl", handler)
    assert message in str(failure.value)


#: The starts of the commands docs/batch.md shows; the tests below run each.
LOCAL_COMMAND = "python -m irisserve.batch --input 'rows/"
DATAFLOW_COMMAND = "python -m irisserve.batch \\"


def sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", (REPO / "docs" / "batch.md").read_text(), re.S)


def documented(start: str) -> list[str]:
    """The arguments of the shell command in docs/batch.md that starts with ``start``."""
    (command,) = [block for block in sh_blocks() if block.startswith(start)]
    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[:3] == ["python", "-m", "irisserve.batch"]
    return argv[3:]


def test_every_documented_command_is_run_here() -> None:
    """tests/integration/test_docs.py leaves ``python -m irisserve.batch`` commands to this
    module."""
    commands = [block for block in sh_blocks() if block.startswith("python -m irisserve.batch")]
    assert len(commands) == 2
    assert all(block.startswith((LOCAL_COMMAND, DATAFLOW_COMMAND)) for block in commands)


def test_the_documented_local_command_runs_and_answers_as_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the page's example line (and one more): its output line is the one shown."""
    page = (REPO / "docs" / "batch.md").read_text()
    example = re.search(r"For the line `(.*?)`:\n\n```json\n(.*?)\n```", page, re.S)
    assert example is not None
    (tmp_path / "rows").mkdir()
    (tmp_path / "rows" / "a.jsonl").write_text(example[1] + "\n")
    (tmp_path / "rows" / "b.jsonl").write_text(json.dumps({"features": SETOSA}) + "\n")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = cli.main(documented(LOCAL_COMMAND))
    assert status == 0
    assert out.getvalue().startswith("rows read 2, scored 2, rejected 0;")
    (answers,) = (tmp_path / "scored").glob("run-0*.jsonl")
    lines = answers.read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(example[2]) in [json.loads(line) for line in lines]


def test_the_documented_dataflow_command_builds_its_job_offline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Beam's ``--dry_run`` builds the whole Dataflow job request and does not submit it."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions

    args, beam_args = cli.parser().parse_known_args(documented(DATAFLOW_COMMAND))
    assert "--runner" in beam_args
    monkeypatch.chdir(REPO)  # --setup_file ./pyproject.toml
    # --requirements_cache skip: no package-index traffic from a test.
    offline = ["--dry_run", "True", "--no_auth", "--requirements_cache", "skip"]
    options = PipelineOptions([*beam_args, *offline])
    pipeline = beam.Pipeline(options=options)
    build(pipeline, args.input, args.output, args.format, ArtifactModelHandler(args.model_dir))
    job = pipeline.run().job
    cloud = job.options.view_as(GoogleCloudOptions)
    assert (cloud.project, cloud.region) == ("my-project", "europe-west1")
    transforms = job.proto_pipeline.components.transforms.values()
    steps = {t.unique_name for t in transforms if "/" not in t.unique_name}
    assert {"Match", "Records", "Score", "Split", "WriteAnswers", "WriteErrors"} <= steps
    (environment,) = job.proto_pipeline.components.environments.values()
    staged = {dependency.role_payload for dependency in environment.dependencies}
    assert any(b"workflow.tar.gz" in payload for payload in staged)  # the irisserve sdist
    assert any(b"requirements.txt" in payload for payload in staged)  # requirements/beam.txt
