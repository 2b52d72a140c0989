"""The docs check: every command and request in README.md, DEVELOPMENT.md and docs/ is run
or checked, so the front door cannot rot.

- ``sh`` blocks, one command at a time: ``curl`` against a real process (its answer equal
  to the ``json`` block that follows, if one does), ``./deploy.sh`` with ``--dry-run``
  against the fake gcloud, ``make`` with ``make -n``, ``gcloud`` flags against the real
  CLI's help; any other command fails until it has a checker.
- ``python`` blocks run against the real process; ``bash`` blocks run whole against it and
  a real Pub/Sub emulator.
- Relative links point to files in the tree.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.support import (
    REPO,
    FunctionProcess,
    gcloud_help_flags,
    require_tools,
    run_ok,
    run_python,
)

PAGES = sorted([REPO / "README.md", REPO / "DEVELOPMENT.md", *(REPO / "docs").glob("*.md")])
FAKE_GCLOUD_DIR = REPO / "tests" / "helpers" / "deploy_fixtures"
#: What the docs write for the local server and the emulator, and for their placeholders.
SERVER, EMULATOR = "127.0.0.1:8080", "127.0.0.1:8085"
PLACEHOLDERS = {"MY_PROJECT": "my-project-123", "REGION": "europe-west1", "NAME": "iris-docs"}
#: Pages that other branches add; linked from the README before they land.
AWAITED = {
    "docs/own-model.md",
    "docs/fast-path.md",
    "docs/v2-clients.md",
    "docs/api-page.md",
    "docs/batch.md",
}
#: Commands another suite runs: ``python -m irisserve.batch`` needs Apache Beam, so
#: tests/unit/batch/test_pipeline.py runs docs/batch.md's in .venv-beam.
CHECKED_ELSEWHERE = {("python", "-m", "irisserve.batch")}
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    """A fenced block: where it is, its language, its text, and the block right after it."""

    page: Path
    line: int
    language: str
    text: str
    answer: str | None  # the ``json`` block that follows at once, if any

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for page in PAGES:
        text = page.read_text()
        fences = list(_FENCE.finditer(text))
        for index, fence in enumerate(fences):
            after = fences[index + 1] if index + 1 < len(fences) else None
            follows = (
                after is not None
                and after.group(1) == "json"
                and not text[fence.end() : after.start()].strip()
            )
            found.append(
                Block(
                    page,
                    text.count("\n", 0, fence.start()) + 1,
                    fence.group(1),
                    fence.group(2),
                    after.group(2) if follows and after is not None else None,
                )
            )
    return found


def commands(block: Block) -> list[list[str]]:
    """The block's commands as words: continuation lines and quoted newlines joined,
    comments, loop headers and ``X=$(...)`` wrappers taken off."""
    found: list[list[str]] = []
    pending = ""
    for line in block.text.splitlines():
        pending = f"{pending}\n{line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # a quote spans lines
            continue
        pending = ""
        if words and words[0] == "for" and words[-1] == "do":
            continue
        if words == ["done"] or not words:
            continue
        if captured := re.fullmatch(r"[A-Z_]+=\$\((.*)\)", " ".join(words), re.DOTALL):
            words = shlex.split(captured[1])
        found.append(words)
    assert not pending, f"{block.where}: an unfinished command"
    return found


def substituted(text: str) -> str:
    for placeholder, value in PLACEHOLDERS.items():
        text = re.sub(rf"\b{placeholder}\b", value, text)
    return text


def shell_blocks(language: str) -> list[Block]:
    return [block for block in blocks() if block.language == language]


def kind(words: list[str]) -> str:
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0], re.DOTALL):
        words = words[1:]
    return words[0] if words else ""


SH = shell_blocks("sh")
SH_COMMANDS = [(block, words) for block in SH for words in commands(block)]


def by_kind(name: str) -> list[tuple[Block, list[str]]]:
    return [(block, words) for block, words in SH_COMMANDS if kind(words) == name]


def ids(pairs: list[tuple[Block, list[str]]]) -> list[str]:
    return [f"{block.where}:{' '.join(words)[:40]}" for block, words in pairs]


# ------------------------------------------------------------------ what the docs hold


def test_every_shell_command_has_a_checker() -> None:
    unchecked = [
        f"{block.where}: {' '.join(words)}"
        for block, words in SH_COMMANDS
        if kind(words) not in {"curl", "./deploy.sh", "make", "gcloud"}
        and tuple(words[:3]) not in CHECKED_ELSEWHERE
    ]
    assert unchecked == []
    assert len(by_kind("curl")) >= 8
    assert {block.language for block in blocks()} <= {"sh", "bash", "python", "json", ""}


def test_the_readme_stays_short() -> None:
    assert len((REPO / "README.md").read_text().splitlines()) <= 200


def test_the_readme_opens_with_what_it_is_the_two_commands_and_one_request() -> None:
    """The first screen: the title, what it is in three lines, ``make serve`` and ``make test``,
    then one curl and its answer, before any other section."""
    text = (REPO / "README.md").read_text()
    first_screen = text.split("\n## ", 1)[0]
    title, pitch, *rest = first_screen.split("\n\n")
    assert title.startswith("# irisserve")
    assert 1 <= len(pitch.splitlines()) <= 3
    fences = re.findall(r"```(\w+)\n(.*?)```", "\n\n".join(rest), flags=re.DOTALL)
    assert [language for language, _ in fences] == ["sh", "sh", "json"]
    commands = [line.split("#")[0].strip() for line in fences[0][1].splitlines()]
    assert commands == ["make serve", "make test"]
    assert fences[1][1].startswith("curl ")


def test_relative_links_point_to_files() -> None:
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path = (page.parent / target).resolve()
            if not path.exists() and str(path.relative_to(REPO)) not in AWAITED:
                broken.append(f"{page.relative_to(REPO)}: {target}")
    assert broken == []


# ------------------------------------------------------------------ requests to a real process


@pytest.fixture(scope="module")
def served() -> Iterator[FunctionProcess]:
    with FunctionProcess() as process:
        yield process


#: Pages about a model of their own: page → the example folder their commands name
#: (built by ``training.examples``, as the page says).
OWN_MODELS = {"own-model.md": REPO / "build" / "passengers"}


@pytest.fixture(scope="module")
def own_model() -> Path:
    folder = OWN_MODELS["own-model.md"]
    run_ok([sys.executable, "-m", "training.examples", "passengers", "--output", str(folder)], 300)
    return folder


@pytest.fixture(scope="module")
def own_served(own_model: Path) -> Iterator[FunctionProcess]:
    with FunctionProcess(env={"IRISSERVE_MODEL_DIR": str(own_model)}) as process:
        yield process


def process_for(block: Block, request: pytest.FixtureRequest) -> FunctionProcess:
    """The process a block's requests go to: its page's own model, or the bundled one."""
    name = "own_served" if block.page.name in OWN_MODELS else "served"
    process: FunctionProcess = request.getfixturevalue(name)
    return process


@pytest.fixture(scope="module")
def fake_gcloud_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    log = tmp_path_factory.mktemp("gcloud") / "calls.jsonl"
    return {
        **os.environ,
        "PATH": f"{FAKE_GCLOUD_DIR}{os.pathsep}{os.environ['PATH']}",
        "FAKE_GCLOUD_LOG": str(log),
    }


@pytest.mark.parametrize(("block", "words"), by_kind("curl"), ids=ids(by_kind("curl")))
def test_curl_answers_as_documented(
    block: Block,
    words: list[str],
    request: pytest.FixtureRequest,
    fake_gcloud_env: dict[str, str],
) -> None:
    require_tools("curl", why="the docs' curl commands are run as a reader would run them")
    address = f"127.0.0.1:{process_for(block, request).port}"
    command = [word.replace(SERVER, address).replace("$URL", f"http://{address}") for word in words]
    # $(gcloud auth print-identity-token) in a header: the fake gcloud answers it.
    command = [
        subprocess.run(
            ["bash", "-c", f'printf %s "{word}"'],
            env=fake_gcloud_env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if "$(" in word
        else word
        for word in command
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    if block.answer is not None:
        assert answer == json.loads(block.answer), block.where
    else:
        assert "error" not in answer, (block.where, answer)


@pytest.mark.parametrize(
    "block", shell_blocks("python"), ids=[b.where for b in shell_blocks("python")]
)
def test_python_runs(block: Block, request: pytest.FixtureRequest) -> None:
    code = block.text.replace(SERVER, f"127.0.0.1:{process_for(block, request).port}")
    run_python(code, timeout=120)


@pytest.mark.integration
@pytest.mark.parametrize("block", shell_blocks("bash"), ids=[b.where for b in shell_blocks("bash")])
def test_bash_runs_against_the_emulator(block: Block, emulator: Any) -> None:
    env = {
        "PUBSUB_EMULATOR_HOST": emulator.host,
        "IRISSERVE_RESULT_TOPIC": "projects/local/topics/iris-results",
        "IRISSERVE_DEAD_LETTER_TOPIC": "projects/local/topics/iris-dead-letters",
    }
    with FunctionProcess(env=env) as process:
        script = block.text.replace(SERVER, f"127.0.0.1:{process.port}")
        script = script.replace(EMULATOR, emulator.host)
        done = subprocess.run(
            ["bash", "-e", "-u", "-o", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"dead_letter_code": "malformed_json"' in done.stdout
    assert '"source_message_id"' in done.stdout


# ------------------------------------------------------------------ deploy, make, gcloud


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    uv = Path(sys.executable).parent / "uv"
    build = [str(uv), "build", "--quiet", "--wheel", "--no-create-gitignore", "--out-dir"]
    subprocess.run([*build, str(out), str(REPO)], check=True, timeout=300)
    (built,) = out.glob("irisserve-*.whl")
    return built


DEPLOYS = by_kind("./deploy.sh")


@pytest.mark.parametrize(("block", "words"), DEPLOYS, ids=ids(DEPLOYS))
def test_deploy_lines_are_accepted(
    block: Block,
    words: list[str],
    wheel: Path,
    fake_gcloud_env: dict[str, str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    if block.page.name in OWN_MODELS:
        request.getfixturevalue("own_model")  # the folder its --model-dir names
    args = [substituted(word) for word in words[1:]]
    extra = [] if "--help" in args else ["--wheel", str(wheel), "--stage-dir", str(tmp_path / "s")]
    if "--dry-run" not in args:
        extra.append("--dry-run")
    done = subprocess.run(
        ["bash", str(REPO / "deploy.sh"), *args, *extra],
        env=fake_gcloud_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr


MAKES = by_kind("make")


@pytest.mark.parametrize(("block", "words"), MAKES, ids=ids(MAKES))
def test_make_targets_exist(block: Block, words: list[str]) -> None:
    words = words[words.index("make") :]
    run_ok(["make", "-n", *(substituted(word) for word in words[1:])], 30)


def test_gcloud_flags_exist() -> None:
    require_tools("gcloud", why="the docs' gcloud commands are checked against the real CLI")
    used: dict[tuple[str, ...], set[str]] = {}
    for _, words in by_kind("gcloud"):
        path = tuple(word for word in words[1 : next_flag(words)] if "$" not in word)
        flags = {word[2:].split("=")[0] for word in words if word.startswith("--")}
        used.setdefault(path, set()).update(flags)
    assert len(used) >= 8
    with ThreadPoolExecutor(4) as pool:
        known = dict(zip(used, pool.map(gcloud_help_flags, used), strict=True))
    missing = sorted(
        f"gcloud {' '.join(path)} --{flag}"
        for path, flags in used.items()
        for flag in flags
        if flag not in known[path]
    )
    assert missing == []


def next_flag(words: list[str]) -> int:
    """The index of the first ``--flag`` (the command and its positionals come before)."""
    return next((i for i, word in enumerate(words) if word.startswith("-")), len(words))
