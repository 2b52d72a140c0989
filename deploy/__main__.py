"""``python -m deploy``: check the arguments, stage, then print or run the gcloud commands."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence

from deploy.commands import Plan, Step, gcloud, plan
from deploy.options import Options, UsageError, parse
from deploy.stage import check_options, stage

__all__ = ["main"]


class Failed(RuntimeError):
    """A step of the deployment failed; the message says which."""


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _shown(step: Step) -> str:
    line = shlex.join(step.command)
    return f"{line} || {shlex.join(step.otherwise)}" if step.otherwise else line


def _preflight() -> None:
    """gcloud is installed and signed in, before anything is staged."""
    cli = gcloud()
    if shutil.which(cli) is None:
        raise Failed(
            f"the Google Cloud CLI ({cli}) is not installed: "
            "see https://cloud.google.com/sdk/docs/install"
        )
    listed = subprocess.run(
        [cli, "auth", "list", "--filter=status:ACTIVE", "--format=value(account)"],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        raise Failed(f"'{cli} auth list' failed")
    account = listed.stdout.strip()
    if not account:
        raise Failed("gcloud has no active account: run 'gcloud auth login' first")
    _say(f"deploying as {account}")


def _run(step: Step) -> None:
    _say(f"+ {_shown(step)}")
    if subprocess.run(step.command, check=False).returncode == 0:
        return
    if step.otherwise is None or subprocess.run(step.otherwise, check=False).returncode != 0:
        raise Failed(f"{step.command[1]} {step.command[2]} failed; see gcloud's message above")


def _deploy(options: Options) -> None:
    if not options.dry_run:
        _preflight()
    stage(options)
    deployment: Plan = plan(options)
    if options.dry_run:
        print(f"# staged: {options.stage_dir}")
        for step in deployment.steps:
            print(_shown(step))
        print(shlex.join(deployment.url))
        return
    _say(f"staged: {options.stage_dir}")
    for step in deployment.steps:
        _run(step)
    url = subprocess.run(deployment.url, stdout=subprocess.PIPE, text=True, check=True)
    print(f"service URL: {url.stdout.strip()}")


def main(argv: Sequence[str] | None = None) -> int:
    """Deploy; 0 when done, 2 for a bad argument (nothing staged or called), 1 for a failure."""
    try:
        options = check_options(parse(argv))
    except UsageError as exc:
        _say(f"deploy.sh: {exc}")
        return 2
    try:
        _deploy(options)
    except (Failed, subprocess.CalledProcessError, OSError) as exc:
        _say(f"deploy.sh: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
