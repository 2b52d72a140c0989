"""deploy.sh: the exact gcloud commands (a fake gcloud first on PATH), every flag checked
against the installed Google Cloud CLI, bad arguments, and a staged folder that installs
in a fresh virtual environment and serves what the library serves."""

from __future__ import annotations

import base64
import http.server
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask.testing
import pytest

from irisserve.artifact.manifest import read_manifest, sha256_file
from tests.helpers.gcs_emulator import GcsEmulator, emulator_in, new_bucket
from tests.helpers.processes import MAIN
from tests.helpers.support import (
    BUNDLED,
    REPO,
    SETOSA,
    VIRGINICA,
    FunctionProcess,
    break_artifact,
    copy_bundled,
    edit_manifest,
    gcloud_help_flags,
    require_tools,
)

DEPLOY = REPO / "deploy.sh"
DEPLOY_OPTIONS = REPO / "deploy" / "options.py"
FAKE_GCLOUD_DIR = REPO / "tests" / "helpers" / "deploy_fixtures"
LOCK = REPO / "requirements" / "serve.txt"
PROJECT = "iris-test-123"
AUTH_LIST = ["auth", "list", "--filter=status:ACTIVE", "--format=value(account)"]
WHY_GCLOUD = "deploy's commands are checked against the real Google Cloud CLI"
BASE_ENV = f"GOOGLE_CLOUD_PROJECT={PROJECT},IRISSERVE_MODEL_DIR=model,THREADS=8"
RUNTIME_ACCOUNT = f"iris@{PROJECT}.iam.gserviceaccount.com"
GS_MODEL = "gs://iris-models/team/iris"
GS_PIN = "ab" * 32


@dataclass
class Deployment:
    """One run of deploy.sh: exit code, output, the gcloud calls it made, its stage folder."""

    code: int
    stdout: str
    stderr: str
    calls: list[list[str]]
    stage: Path


def run_deploy(tmp: Path, *args: str, env: Mapping[str, str] | None = None) -> Deployment:
    """Run deploy.sh in ``tmp`` with the fake gcloud first on PATH, staging in tmp/stage."""
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / "gcloud-calls.jsonl"
    log.write_text("")
    stage = tmp / "stage"
    done = subprocess.run(
        ["bash", str(DEPLOY), "--stage-dir", str(stage), *args],
        env={
            **os.environ,
            "PATH": f"{FAKE_GCLOUD_DIR}{os.pathsep}{os.environ['PATH']}",
            "FAKE_GCLOUD_LOG": str(log),
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp,
        check=False,
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return Deployment(done.returncode, done.stdout, done.stderr, calls, stage)


def _with_wheel(wheel: Path) -> tuple[str, ...]:
    """The test project and ``wheel``: the arguments most deploys here start with."""
    return ("--project", PROJECT, "--wheel", str(wheel))


def printed_commands(dry_run: Deployment) -> list[list[str]]:
    """The commands a --dry-run printed, split as a POSIX shell would."""
    return [shlex.split(line) for line in dry_run.stdout.splitlines() if not line.startswith("#")]


def deployed_env(command: list[str]) -> dict[str, str]:
    """What --set-env-vars sets, read as gcloud reads it (`gcloud topic escaping`)."""
    value = next(word.split("=", 1)[1] for word in command if word.startswith("--set-env-vars="))
    delimiter = ","
    if escaped := re.fullmatch(r"\^([^^]+)\^(.*)", value, re.DOTALL):
        delimiter, value = escaped.groups()
    return dict(pair.split("=", 1) for pair in value.split(delimiter))


def lock_pins() -> list[str]:
    return [line for line in LOCK.read_text().splitlines() if line and line[0].isalnum()]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """`deploy.sh --dry-run` once: the wheel built from this checkout, the folder left staged."""
    dry_run = run_deploy(tmp_path_factory.mktemp("staged"), "--project", PROJECT, "--dry-run")
    assert dry_run.code == 0, dry_run.stderr
    return dry_run


@pytest.fixture(scope="session")
def wheel(staged: Deployment) -> Path:
    (path,) = (staged.stage / "wheels").glob("irisserve-*.whl")
    return path


@pytest.fixture(scope="session")
def staged_venv(staged: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment (this interpreter: the python311 runtime's version) with
    `pip install -r requirements.txt` run inside the staged folder, as the buildpack does."""
    venv = tmp_path_factory.mktemp("venv") / "staged"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", "requirements.txt"],
        cwd=staged.stage,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return venv


SCENARIOS: dict[str, list[str]] = {
    "http": [],
    "topic": [
        "--trigger-topic",
        "iris-requests",
        "--result-topic",
        "iris-results",
        "--dead-letter-topic",
        "projects/other-project/topics/iris-dead",
    ],
    "run": ["--platform", "run", "--min-instances", "1"],
    "gcs": [
        "--model-dir",
        GS_MODEL,
        "--model-sha256",
        GS_PIN,
        "--service-account",
        RUNTIME_ACCOUNT,
    ],
    "overridden": [
        "--region=europe-west1",
        "--name",
        "iris-big",
        "--memory",
        "2Gi",
        "--cpu=2",
        "--concurrency",
        "40",
        "--min-instances",
        "2",
        "--max-instances",
        "50",
        "--timeout",
        "300",
        "--env",
        "IRISSERVE_SCORER=sklearn",
        "--env",
        "NOTE=a,b",
        "--env",
        "CONTACT=ml@example.com",
        "--service-account",
        RUNTIME_ACCOUNT,
        "--allow-unauthenticated",
    ],
}


@pytest.fixture(scope="module")
def deployments(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> dict[str, Deployment]:
    """Each scenario deployed once through the fake gcloud (the prebuilt wheel reused)."""
    root = tmp_path_factory.mktemp("deployments")
    return {
        name: run_deploy(root / name, "--project", PROJECT, "--wheel", str(wheel), *args)
        for name, args in SCENARIOS.items()
    }


# ------------------------------------------------------------------ exact commands


def test_http_function_is_private_by_default(deployments: dict[str, Deployment]) -> None:
    run = deployments["http"]
    assert run.code == 0, run.stderr
    assert run.calls == [
        AUTH_LIST,
        [
            "functions",
            "deploy",
            "irisserve-predict",
            "--gen2",
            "--runtime=python311",
            f"--project={PROJECT}",
            "--region=us-central1",
            f"--source={run.stage}",
            "--entry-point=predict",
            "--trigger-http",
            "--memory=512Mi",
            "--cpu=1",
            "--concurrency=8",
            "--min-instances=0",
            "--max-instances=10",
            "--timeout=60s",
            f"--set-env-vars={BASE_ENV}",
            "--no-allow-unauthenticated",
        ],
        [
            "functions",
            "describe",
            "irisserve-predict",
            "--v2",
            f"--project={PROJECT}",
            "--region=us-central1",
            "--format=value(serviceConfig.uri)",
        ],
    ]
    assert run.stdout == "service URL: https://irisserve-predict-fake.a.run.app\n"


def test_topic_trigger_deploys_predict_event_with_retries(
    deployments: dict[str, Deployment],
) -> None:
    run = deployments["topic"]
    assert run.code == 0, run.stderr
    assert run.calls[1] == [
        "functions",
        "deploy",
        "irisserve-predict",
        "--gen2",
        "--runtime=python311",
        f"--project={PROJECT}",
        "--region=us-central1",
        f"--source={run.stage}",
        "--entry-point=predict_event",
        "--trigger-topic=iris-requests",
        "--retry",
        "--memory=512Mi",
        "--cpu=1",
        "--concurrency=8",
        "--min-instances=0",
        "--max-instances=10",
        "--timeout=60s",
        f"--set-env-vars={BASE_ENV}"
        f",IRISSERVE_RESULT_TOPIC=projects/{PROJECT}/topics/iris-results"
        ",IRISSERVE_DEAD_LETTER_TOPIC=projects/other-project/topics/iris-dead",
    ]
    assert run.calls[2][:3] == ["functions", "describe", "irisserve-predict"]


def test_cloud_run_deploys_the_same_source_eagerly(deployments: dict[str, Deployment]) -> None:
    run = deployments["run"]
    assert run.code == 0, run.stderr
    assert run.calls[1:] == [
        [
            "run",
            "deploy",
            "irisserve-predict",
            f"--project={PROJECT}",
            "--region=us-central1",
            f"--source={run.stage}",
            "--function=predict",
            "--base-image=python311",
            "--memory=512Mi",
            "--cpu=1",
            "--concurrency=8",
            "--min-instances=1",
            "--max-instances=10",
            "--timeout=60s",
            f"--set-env-vars={BASE_ENV},IRISSERVE_EAGER_LOAD=1",
            "--no-allow-unauthenticated",
        ],
        [
            "run",
            "services",
            "describe",
            "irisserve-predict",
            f"--project={PROJECT}",
            "--region=us-central1",
            "--format=value(status.url)",
        ],
    ]
    assert run.stdout == "service URL: https://irisserve-predict-fake.a.run.app\n"


def test_overridden_settings(deployments: dict[str, Deployment]) -> None:
    run = deployments["overridden"]
    assert run.code == 0, run.stderr
    deploy = run.calls[1]
    assert deploy == [
        "functions",
        "deploy",
        "iris-big",
        "--gen2",
        "--runtime=python311",
        f"--project={PROJECT}",
        "--region=europe-west1",
        f"--source={run.stage}",
        "--entry-point=predict",
        "--trigger-http",
        "--memory=2Gi",
        "--cpu=2",
        "--concurrency=40",
        "--min-instances=2",
        "--max-instances=50",
        "--timeout=300s",
        f"--service-account=iris@{PROJECT}.iam.gserviceaccount.com",
        f"--set-env-vars=^|^GOOGLE_CLOUD_PROJECT={PROJECT}|IRISSERVE_MODEL_DIR=model|THREADS=40"
        "|IRISSERVE_SCORER=sklearn|NOTE=a,b|CONTACT=ml@example.com",
        "--allow-unauthenticated",
    ]
    assert deployed_env(deploy) == {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "IRISSERVE_MODEL_DIR": "model",
        "THREADS": "40",
        "IRISSERVE_SCORER": "sklearn",
        "NOTE": "a,b",
        "CONTACT": "ml@example.com",
    }
    assert run.calls[2][:3] == ["functions", "describe", "iris-big"]
    assert run.stdout == "service URL: https://iris-big-fake.a.run.app\n"


def test_a_gs_model_is_granted_first_pinned_and_not_staged(
    deployments: dict[str, Deployment],
) -> None:
    run = deployments["gcs"]
    assert run.code == 0, run.stderr
    assert run.calls[1] == [
        "storage",
        "buckets",
        "add-iam-policy-binding",
        "gs://iris-models",
        f"--member=serviceAccount:{RUNTIME_ACCOUNT}",
        "--role=roles/storage.objectViewer",
        f"--project={PROJECT}",
    ]
    assert run.calls[2][:2] == ["functions", "deploy"]
    assert f"--service-account={RUNTIME_ACCOUNT}" in run.calls[2]
    assert deployed_env(run.calls[2]) == {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "IRISSERVE_MODEL_DIR": GS_MODEL,
        "IRISSERVE_MODEL_SHA256": GS_PIN,
        "THREADS": "8",
    }
    assert run.calls[3][:2] == ["functions", "describe"]
    assert not (run.stage / "model").exists()
    assert (run.stage / "main.py").exists()


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GcsEmulator]:
    with emulator_in(tmp_path_factory.mktemp("gcs")) as emulator:
        yield emulator


def gs_dry_run(storage: GcsEmulator, wheel: Path, tmp_path: Path, *args: str) -> Deployment:
    return run_deploy(
        tmp_path,
        *("--project", PROJECT, "--wheel", str(wheel), "--dry-run"),
        *("--service-account", RUNTIME_ACCOUNT, *args),
        env={"STORAGE_EMULATOR_HOST": storage.host},
    )


@pytest.mark.parametrize(
    ("args", "pin"),
    [
        ((), sha256_file(BUNDLED / "manifest.json")),
        (("--no-pin",), None),
        (("--env", f"IRISSERVE_MODEL_SHA256={GS_PIN}"), GS_PIN),
    ],
    ids=["read from the bucket", "no pin", "env wins"],
)
def test_the_pin_is_the_bucket_manifest_read_now(
    storage: GcsEmulator, wheel: Path, tmp_path: Path, args: tuple[str, ...], pin: str | None
) -> None:
    bucket = new_bucket(storage, BUNDLED)
    run = gs_dry_run(storage, wheel, tmp_path, "--model-dir", f"gs://{bucket}/iris", *args)
    assert run.code == 0, run.stderr
    assert run.calls == []
    grant, deploy, _ = printed_commands(run)
    assert grant[1:5] == ["storage", "buckets", "add-iam-policy-binding", f"gs://{bucket}"]
    env = deployed_env(deploy)
    assert env["IRISSERVE_MODEL_DIR"] == f"gs://{bucket}/iris"
    assert env.get("IRISSERVE_MODEL_SHA256") == pin


@pytest.mark.parametrize(
    ("how", "phrase"),
    [("missing", "could not be read to pin it"), ("tampered", "sha256")],
)
def test_a_bucket_model_the_function_would_refuse_is_refused_here(
    storage: GcsEmulator, wheel: Path, tmp_path: Path, how: str, phrase: str
) -> None:
    folder = copy_bundled(tmp_path / "model")
    bucket = new_bucket(storage)
    if how == "tampered":
        break_artifact(folder, how)
        storage.upload_folder(folder, bucket, "iris")
    run = gs_dry_run(storage, wheel, tmp_path / "run", "--model-dir", f"gs://{bucket}/iris")
    assert_refused(run, 2, phrase)
    assert f"gs://{bucket}/iris" in run.stderr


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_dry_run_prints_the_commands_it_would_run_and_calls_nothing(
    scenario: str, deployments: dict[str, Deployment], wheel: Path, tmp_path: Path
) -> None:
    real = deployments[scenario]
    dry_run = run_deploy(
        tmp_path, "--project", PROJECT, "--wheel", str(wheel), *SCENARIOS[scenario], "--dry-run"
    )
    assert dry_run.code == 0, dry_run.stderr
    assert dry_run.calls == []
    assert dry_run.stdout.splitlines()[0] == f"# staged: {dry_run.stage}"
    printed = [
        [word.replace(str(dry_run.stage), str(real.stage)) for word in command]
        for command in printed_commands(dry_run)
    ]
    assert printed == [["gcloud", *call] for call in real.calls[1:]]
    assert sorted(path.name for path in dry_run.stage.iterdir()) == sorted(
        path.name for path in real.stage.iterdir()
    )


def test_every_flag_exists_in_the_installed_gcloud(
    deployments: dict[str, Deployment], gcloud_flags: dict[tuple[str, ...], set[str]]
) -> None:
    assert "entry-point" in gcloud_flags["functions", "deploy"]
    assert "entry-point" not in gcloud_flags["run", "deploy"]  # the check can fail
    used: set[tuple[tuple[str, ...], str]] = set()
    for run in deployments.values():
        for call in run.calls:
            command = next(c for c in gcloud_flags if tuple(call[: len(c)]) == c)
            used |= {(command, w[2:].split("=")[0]) for w in call if w.startswith("--")}
    missing = sorted((" ".join(c), flag) for c, flag in used if flag not in gcloud_flags[c])
    assert missing == []
    assert {command for command, _ in used} == set(gcloud_flags)


GCLOUD_COMMANDS = (
    ("auth", "list"),
    ("storage", "buckets", "add-iam-policy-binding"),
    ("functions", "deploy"),
    ("functions", "describe"),
    ("run", "deploy"),
    ("run", "services", "describe"),
)


@pytest.fixture(scope="session")
def gcloud_flags() -> dict[tuple[str, ...], set[str]]:
    """The flags each command deploy.sh calls accepts, read from the real CLI's --help."""
    require_tools("gcloud", why=WHY_GCLOUD)
    with ThreadPoolExecutor(len(GCLOUD_COMMANDS)) as pool:
        found = pool.map(gcloud_help_flags, GCLOUD_COMMANDS)
        return dict(zip(GCLOUD_COMMANDS, found, strict=True))


# ------------------------------------------------------------------ the staged folder


def test_staged_folder_is_self_contained_and_pinned(staged: Deployment, wheel: Path) -> None:
    require_tools("gcloud", why=WHY_GCLOUD)
    stage = staged.stage
    assert (stage / "main.py").read_bytes() == MAIN.read_bytes()
    requirements = [
        line
        for line in (stage / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert requirements == [*lock_pins(), "./wheels/irisserve-1.0.0-py3-none-any.whl"]
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9._-]*==[^ ;#]+", pin) for pin in lock_pins())
    for artifact_file in BUNDLED.iterdir():
        assert (stage / "model" / artifact_file.name).read_bytes() == artifact_file.read_bytes()
    uploaded = subprocess.run(
        ["gcloud", "meta", "list-files-for-upload", str(stage)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    assert sorted(uploaded) == sorted(
        [
            "main.py",
            "requirements.txt",
            f"wheels/{wheel.name}",
            *(f"model/{path.name}" for path in BUNDLED.iterdir()),
        ]
    )


@pytest.mark.integration
def test_requirements_install_every_pin_and_the_wheel(
    staged: Deployment, staged_venv: Path
) -> None:
    listed = subprocess.run(
        [str(staged_venv / "bin" / "python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    installed = {
        f"{normalized(d['name'])}=={d['version']}"
        for d in json.loads(listed)
        if normalized(d["name"]) not in {"pip", "setuptools"}
    }
    assert installed == {*lock_pins(), "irisserve==1.0.0"}
    location = subprocess.run(
        [str(staged_venv / "bin" / "python"), "-c", "import irisserve; print(irisserve.__file__)"],
        cwd=staged.stage,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert Path(location.strip()).is_relative_to(staged_venv)


def staged_function(staged: Deployment, venv: Path, **options: Any) -> FunctionProcess:
    """functions-framework from the fresh venv, run in the staged folder with the deployed env."""
    deploy_command = printed_commands(staged)[0]
    return FunctionProcess(
        source=staged.stage / "main.py",
        executable=venv / "bin" / "functions-framework",
        cwd=staged.stage,
        env=deployed_env(deploy_command),
        **options,
    )


@pytest.mark.integration
def test_staged_predict_answers_like_the_library(
    staged: Deployment, staged_venv: Path, client: flask.testing.FlaskClient
) -> None:
    with staged_function(staged, staged_venv) as served:
        for body in ({"features": SETOSA}, {"instances": [SETOSA, VIRGINICA]}):
            got = served.post_json("/predict", body)
            want = client.post("/predict", json=body)
            assert got.status == want.status_code == 200
            assert got.json() == want.get_json()
        assert served.post_json("/predict", {"features": [1, 2]}).status == 400


def holds(found: Any, wanted: Mapping[str, Any]) -> bool:
    """Whether ``found`` or anything nested in it has every item of ``wanted``."""
    if isinstance(found, dict):
        if wanted.items() <= found.items():
            return True
        return any(holds(value, wanted) for value in found.values())
    if isinstance(found, list):
        return any(holds(value, wanted) for value in found)
    return False


@pytest.mark.integration
def test_staged_predict_event_scores_a_pubsub_cloudevent(
    staged: Deployment, staged_venv: Path, client: flask.testing.FlaskClient
) -> None:
    assert "def predict_event" in (staged.stage / "main.py").read_text(), (
        "functions/predict/main.py has no predict_event entry point"
    )
    message = {
        "data": base64.b64encode(json.dumps({"features": SETOSA}).encode()).decode(),
        "attributes": {"origin": "deploy-test"},
        "messageId": "deploy-test-1",
        "publishTime": "2025-01-01T00:00:00Z",
    }
    headers = {
        "Content-Type": "application/json",
        "ce-id": "deploy-test-1",
        "ce-specversion": "1.0",
        "ce-source": f"//pubsub.googleapis.com/projects/{PROJECT}/topics/iris-requests",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
    }
    body = {"message": message, "subscription": f"projects/{PROJECT}/subscriptions/eventarc"}
    with staged_function(
        staged, staged_venv, target="predict_event", signature_type="cloudevent"
    ) as served:
        reply = served.request("POST", "/", json.dumps(body).encode(), headers)
        assert reply.status == 200, served.output()
        want = client.post("/predict", json={"features": SETOSA}).get_json()
        del want["model_version"]
        assert any(holds(line, want) for line in served.log_lines()), served.output()


# ------------------------------------------------------------------ refusals


BAD_ARGUMENTS = {
    "unknown flag": (["--colour", "blue"], "unknown option --colour"),
    "missing project": (None, "missing --project"),
    "malformed project": (["--project", "My_Project"], "--project 'My_Project'"),
    "flag without value": (["--region"], "--region needs a value"),
    "malformed region": (["--region", "US Central"], "--region 'US Central'"),
    "malformed memory": (["--memory", "512"], "--memory '512'"),
    "both triggers": (
        ["--trigger-http", "--trigger-topic", "iris-requests"],
        "--trigger-http and --trigger-topic",
    ),
    "topic path as trigger": (
        ["--trigger-topic", "projects/p/topics/t"],
        "--trigger-topic 'projects/p/topics/t'",
    ),
    "topic on cloud run": (
        ["--platform", "run", "--trigger-topic", "iris-requests"],
        "--trigger-topic needs --platform functions",
    ),
    "public event function": (
        ["--trigger-topic", "iris-requests", "--allow-unauthenticated"],
        "--allow-unauthenticated applies to HTTP only",
    ),
    "concurrency on a fraction of a cpu": (["--cpu", ".5"], "--concurrency 8 needs --cpu 1"),
    "min above max": (["--min-instances", "5", "--max-instances", "2"], "--min-instances 5"),
    "event timeout too long": (
        ["--trigger-topic", "iris-requests", "--timeout", "600"],
        "--timeout '600' must be 1 to 540",
    ),
    "env without value": (["--env", "JUST_A_KEY"], "--env 'JUST_A_KEY'"),
    "bad result topic": (["--result-topic", "a b"], "--result-topic 'a b'"),
    "missing model folder": (["--model-dir", "no-such-folder"], "--model-dir 'no-such-folder'"),
    "malformed bucket": (["--model-dir", "gs://Iris/x"], "--model-dir 'gs://Iris/x'"),
    "bucket without account": (["--model-dir", GS_MODEL], "needs --service-account EMAIL"),
    "pin for a folder": (["--no-pin"], "apply to a gs:// --model-dir only"),
    "pin and no pin": (
        [
            *("--model-dir", GS_MODEL, "--service-account", RUNTIME_ACCOUNT),
            *("--no-pin", "--model-sha256", GS_PIN),
        ],
        "exclude each other",
    ),
    "malformed pin": (
        ["--model-dir", GS_MODEL, "--service-account", RUNTIME_ACCOUNT, "--model-sha256", "ab"],
        "--model-sha256 'ab'",
    ),
    "unknown platform": (["--platform", "gke"], "--platform 'gke'"),
}


def assert_refused(run: Deployment, code: int, phrase: str) -> None:
    assert run.code == code
    (line,) = run.stderr.splitlines()
    assert line.startswith("deploy.sh: ")
    assert phrase in line
    assert run.stdout == ""
    assert not run.stage.exists()


@pytest.mark.parametrize(("args", "phrase"), BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS)
def test_bad_arguments_exit_2_before_anything_happens(
    args: list[str] | None, phrase: str, tmp_path: Path
) -> None:
    run = run_deploy(tmp_path, *(["--project", PROJECT, *args] if args is not None else []))
    assert_refused(run, 2, phrase)
    assert run.calls == []


@pytest.mark.parametrize(
    ("how", "phrase"),
    [("other-sklearn", "trained with scikit-learn 0.24.2"), ("tampered", "sha256")],
)
def test_a_model_the_function_would_refuse_is_refused_here(
    how: str, phrase: str, artifact_dir: Path, tmp_path: Path
) -> None:
    break_artifact(artifact_dir, how)
    run = run_deploy(tmp_path, "--project", PROJECT, "--model-dir", str(artifact_dir))
    assert_refused(run, 2, phrase)
    assert run.calls == []


def test_another_model_folder_is_staged_and_served_from_model(
    artifact_dir: Path, wheel: Path, tmp_path: Path
) -> None:
    run = run_deploy(
        tmp_path, "--project", PROJECT, "--wheel", str(wheel), "--model-dir", str(artifact_dir)
    )
    assert run.code == 0, run.stderr
    assert deployed_env(run.calls[1])["IRISSERVE_MODEL_DIR"] == "model"
    for path in artifact_dir.iterdir():
        assert (run.stage / "model" / path.name).read_bytes() == path.read_bytes()


def staged_requirements(run: Deployment) -> list[str]:
    """The staged requirements.txt's lines, comments left out."""
    text = (run.stage / "requirements.txt").read_text()
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def xgboost_artifact(folder: Path) -> Path:
    """A pickled XGBoost classifier (``multi:softmax`` has no pickle-free export: the
    sklearn backend serves it) packaged in ``folder``."""
    import pandas as pd
    from sklearn.datasets import make_classification
    from xgboost import XGBClassifier

    from irisserve.packaging import write_artifact

    x, y = make_classification(
        n_samples=120, n_features=4, n_informative=3, n_redundant=0, n_classes=3, random_state=0
    )
    rows = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    model = XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1, objective="multi:softmax")
    write_artifact(model.fit(rows, y), rows, folder, name="xgb", version="1.0.0", y=pd.Series(y))
    assert "scorer.json" not in read_manifest(folder).files
    return folder


def test_a_pickled_xgboost_model_deploys_with_xgboost_pinned_to_its_version(
    wheel: Path, tmp_path: Path
) -> None:
    model = xgboost_artifact(tmp_path / "xgb")
    recorded = read_manifest(model).libraries["xgboost-cpu"]
    run = run_deploy(tmp_path, *_with_wheel(wheel), "--model-dir", str(model), "--dry-run")
    assert run.code == 0, run.stderr
    assert staged_requirements(run) == [
        *lock_pins(),
        f"xgboost-cpu=={recorded}",
        f"./wheels/{wheel.name}",
    ]


def test_a_pickle_free_artifact_stages_nothing_extra_unless_told_to_unpickle(
    artifact_dir: Path, wheel: Path, tmp_path: Path
) -> None:
    libraries = read_manifest(artifact_dir).libraries
    edit_manifest(artifact_dir, libraries={**libraries, "lightgbm": "4.7.0"})
    args = ["--project", PROJECT, "--wheel", str(wheel), "--model-dir", str(artifact_dir)]
    fast = run_deploy(tmp_path / "fast", *args, "--dry-run")
    assert fast.code == 0, fast.stderr
    assert staged_requirements(fast) == [*lock_pins(), f"./wheels/{wheel.name}"]
    unpickled = run_deploy(
        tmp_path / "sklearn", *args, "--env", "IRISSERVE_SCORER=sklearn", "--dry-run"
    )
    assert unpickled.code == 0, unpickled.stderr
    assert staged_requirements(unpickled)[-2:] == ["lightgbm==4.7.0", f"./wheels/{wheel.name}"]


def test_a_library_the_lock_pins_at_another_version_is_refused(
    artifact_dir: Path, tmp_path: Path
) -> None:
    libraries = read_manifest(artifact_dir).libraries
    edit_manifest(artifact_dir, libraries={**libraries, "scipy": "0.19.0"})
    run = run_deploy(
        tmp_path,
        "--project",
        PROJECT,
        "--model-dir",
        str(artifact_dir),
        "--env",
        "IRISSERVE_SCORER=sklearn",
    )
    assert_refused(run, 2, "was packaged with scipy 0.19.0, requirements/serve.txt pins")
    assert run.calls == []


def test_no_active_account_stops_before_staging(tmp_path: Path) -> None:
    run = run_deploy(tmp_path, "--project", PROJECT, env={"FAKE_GCLOUD_ACCOUNT": ""})
    assert_refused(run, 1, "no active account")
    assert run.calls == [AUTH_LIST]


def test_missing_gcloud_stops_before_staging(tmp_path: Path) -> None:
    run = run_deploy(tmp_path, "--project", PROJECT, env={"GCLOUD": str(tmp_path / "gcloud")})
    assert_refused(run, 1, "is not installed")


def test_a_failed_deploy_fails_the_script(wheel: Path, tmp_path: Path) -> None:
    run = run_deploy(tmp_path, *_with_wheel(wheel), env={"FAKE_GCLOUD_FAIL": "functions deploy"})
    assert run.code == 1
    assert [call[:2] for call in run.calls] == [["auth", "list"], ["functions", "deploy"]]
    assert "service URL" not in run.stdout


def test_a_folder_it_did_not_stage_is_never_replaced(tmp_path: Path) -> None:
    precious = tmp_path / "stage"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    run = run_deploy(tmp_path, "--project", PROJECT, "--dry-run")
    assert run.code == 2
    assert "refusing to replace it" in run.stderr
    assert (precious / "notes.txt").read_text() == "keep me"


def test_restaging_replaces_what_it_staged_before(wheel: Path, tmp_path: Path) -> None:
    args = ("--project", PROJECT, "--wheel", str(wheel), "--dry-run")
    first = run_deploy(tmp_path, *args)
    (first.stage / "stale.txt").write_text("from an older run")
    second = run_deploy(tmp_path, *args)
    assert second.code == 0, second.stderr
    assert not (second.stage / "stale.txt").exists()
    assert (second.stage / "main.py").exists()


def test_help_documents_every_option(tmp_path: Path) -> None:
    run = run_deploy(tmp_path, "--help")
    assert run.code == 0
    assert run.stdout.startswith("usage: ./deploy.sh --project PROJECT [options]")
    options = set(re.findall(r"add_argument\(\s*\"(--[a-z][a-z-]*)\"", DEPLOY_OPTIONS.read_text()))
    assert len(options) > 15
    assert sorted(option for option in options if option not in run.stdout) == []
    assert run.calls == []


# ------------------------------------------------------------------ log-based metrics

LOG_METRICS = ("request-latency", "errors", "out-of-range-rows")


def metric_commands(dry_run: Deployment) -> list[tuple[list[str], list[str]]]:
    """The printed `create || update` lines of --create-log-metrics, each split in two."""
    pairs = []
    for line in dry_run.stdout.splitlines():
        if " logging metrics " in line:
            create, update = line.split(" || ")
            pairs.append((shlex.split(create), shlex.split(update)))
    return pairs


def test_log_metrics_are_created_after_the_deploy_when_asked(wheel: Path, tmp_path: Path) -> None:
    run = run_deploy(tmp_path, "--project", PROJECT, "--wheel", str(wheel), "--create-log-metrics")
    assert run.code == 0, run.stderr
    assert [call[:2] for call in run.calls] == [
        ["auth", "list"],
        ["functions", "deploy"],
        *[["logging", "metrics"]] * 3,
        ["functions", "describe"],
    ]
    assert run.calls[2:5] == [
        [
            "logging",
            "metrics",
            "create",
            f"irisserve-predict-{metric}",
            f"--project={PROJECT}",
            f"--config-from-file={run.stage / 'log-metrics' / metric}.yaml",
        ]
        for metric in LOG_METRICS
    ]


def test_an_existing_log_metric_is_updated_instead(wheel: Path, tmp_path: Path) -> None:
    failing = {"FAKE_GCLOUD_FAIL": "logging metrics create"}
    run = run_deploy(tmp_path, *_with_wheel(wheel), "--create-log-metrics", env=failing)
    assert run.code == 0, run.stderr
    metric_calls = [call for call in run.calls if call[:2] == ["logging", "metrics"]]
    assert [call[2] for call in metric_calls] == ["create", "update"] * 3
    assert metric_calls[0][3:] == metric_calls[1][3:]
    assert run.stdout == "service URL: https://irisserve-predict-fake.a.run.app\n"


def test_dry_run_shows_the_log_metric_commands_and_uploads_no_config(
    wheel: Path, tmp_path: Path
) -> None:
    dry_run = run_deploy(
        tmp_path, "--project", PROJECT, "--wheel", str(wheel), "--create-log-metrics", "--dry-run"
    )
    assert dry_run.code == 0, dry_run.stderr
    assert dry_run.calls == []
    require_tools("gcloud", why=WHY_GCLOUD)
    pairs = metric_commands(dry_run)
    assert [create[4] for create, _ in pairs] == [f"irisserve-predict-{m}" for m in LOG_METRICS]
    for create, update in pairs:
        assert create[:4] == ["gcloud", "logging", "metrics", "create"]
        assert update[:4] == ["gcloud", "logging", "metrics", "update"]
        assert update[4:] == create[4:]
    assert sorted(path.name for path in (dry_run.stage / "log-metrics").iterdir()) == sorted(
        f"{metric}.yaml" for metric in LOG_METRICS
    )
    uploaded = subprocess.run(
        ["gcloud", "meta", "list-files-for-upload", str(dry_run.stage)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    assert not [path for path in uploaded if path.startswith("log-metrics")]
    assert "main.py" in uploaded


@dataclass
class FakeLoggingAPI:
    """A loopback stand-in for the Cloud Logging API: records what the real gcloud sends."""

    requests: list[tuple[str, str, dict[str, Any]]]
    url: str


@pytest.fixture
def logging_api() -> Iterator[FakeLoggingAPI]:
    requests: list[tuple[str, str, dict[str, Any]]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            requests.append((self.command, self.path.split("?")[0], body))
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = answer

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeLoggingAPI(requests, f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def request_log_lines(client: flask.testing.FlaskClient, capsys: Any) -> dict[str, Any]:
    """Real request lines of this library: a drifted prediction and a 400."""
    capsys.readouterr()
    client.post("/predict", json={"instances": [SETOSA, [6.5, 3.0, 42.0, 2.0]]})
    client.post("/predict", json={"features": [1]})
    lines = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    drifted, invalid = [line for line in lines if "httpRequest" in line]
    return {"drifted": drifted, "invalid": invalid}


def field(line: dict[str, Any], path: str) -> Any:
    """A LogEntry field of a stdout line (``jsonPayload.x`` is x), ``None`` when missing."""
    value: Any = line
    for key in path.removeprefix("jsonPayload.").split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def extract(line: dict[str, Any], extractor: str) -> Any:
    """Cloud Logging's EXTRACT(field) and REGEXP_EXTRACT(field, "regex") on a stdout line."""
    if plain := re.fullmatch(r"EXTRACT\(([\w.]+)\)", extractor):
        return field(line, plain[1])
    regexp = re.fullmatch(r'REGEXP_EXTRACT\(([\w.]+), "(.+)"\)', extractor)
    assert regexp is not None, extractor
    found = re.search(regexp[2], str(field(line, regexp[1])))
    return found[1] if found else None


def selects(line: dict[str, Any], log_filter: str) -> bool:
    """The filter's conditions on the line's own fields (resource and logName are Cloud's);
    as in Cloud Logging, a comparison with a missing field is false."""
    for condition in log_filter.split(" AND "):
        compared = re.fullmatch(r"((?:httpRequest|jsonPayload)[\w.]+)(>=|>)(\d+)", condition)
        if compared:
            value, limit = field(line, compared[1]), int(compared[3])
            if value is None or not (value >= limit if compared[2] == ">=" else value > limit):
                return False
    return True


def test_the_real_gcloud_sends_metrics_that_read_our_log_lines(
    wheel: Path,
    tmp_path: Path,
    logging_api: FakeLoggingAPI,
    client: flask.testing.FlaskClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    require_tools("gcloud", why=WHY_GCLOUD)
    dry_run = run_deploy(
        tmp_path, "--project", PROJECT, "--wheel", str(wheel), "--create-log-metrics", "--dry-run"
    )
    assert dry_run.code == 0, dry_run.stderr
    pairs = metric_commands(dry_run)
    env = {
        **os.environ,
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud-config"),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
        "CLOUDSDK_AUTH_ACCESS_TOKEN": "fake-token",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING": logging_api.url,
    }

    def run(command: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    commands = [create for create, _ in pairs] + [pairs[0][1]]
    with ThreadPoolExecutor(2) as pool:
        for done in pool.map(run, commands):
            assert done.returncode == 0, done.stderr
    created = {body["name"]: body for method, _, body in logging_api.requests if method == "POST"}
    updated = [path for method, path, _ in logging_api.requests if method == "PUT"]
    assert updated == [f"/v2/projects/{PROJECT}/metrics/irisserve-predict-request-latency"]
    assert sorted(created) == sorted(f"irisserve-predict-{metric}" for metric in LOG_METRICS)
    known = {
        "name",
        "description",
        "filter",
        "valueExtractor",
        "labelExtractors",
        "metricDescriptor",
        "bucketOptions",
    }
    for body in created.values():
        assert set(body) <= known
        assert 'resource.labels.service_name="irisserve-predict"' in body["filter"]
        assert f'logName="projects/{PROJECT}/logs/run.googleapis.com%2Fstdout"' in body["filter"]

    lines = request_log_lines(client, capsys)
    latency = created["irisserve-predict-request-latency"]
    errors = created["irisserve-predict-errors"]
    drift = created["irisserve-predict-out-of-range-rows"]
    assert [selects(line, latency["filter"]) for line in lines.values()] == [True, True]
    assert [selects(line, errors["filter"]) for line in lines.values()] == [False, True]
    assert [selects(line, drift["filter"]) for line in lines.values()] == [True, False]
    for line in lines.values():
        assert float(extract(line, latency["valueExtractor"])) > 0
        assert isinstance(extract(line, latency["labelExtractors"]["cold"]), bool)
    assert extract(lines["drifted"], drift["valueExtractor"]) == 1
    assert extract(lines["invalid"], errors["labelExtractors"]["error_code"]) == "invalid_input"
    assert extract(lines["invalid"], errors["labelExtractors"]["status"]) == 400
