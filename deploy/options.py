"""The command line of ``deploy.sh``: parse it, check every value, or stop with exit 2."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

from irisserve.artifact.storage import READ_ROLE
from irisserve.config import GcsLocation
from irisserve.errors import ConfigurationError

__all__ = ["REPO", "Options", "UsageError", "parse", "pinned"]

REPO = Path(__file__).resolve().parent.parent
BUNDLED_MODEL = REPO / "src" / "irisserve" / "artifacts" / "iris"
RUNTIME = "python311"

#: Marks a folder this tool staged, so that it may replace it on the next run.
STAGE_MARKER = ".irisserve-stage"

_DESCRIPTION = f"""\
Stage a self-contained source folder (main.py, a requirements.txt pinned to
requirements/serve.txt plus the irisserve wheel built from this checkout, the
model artifact, a .gcloudignore), then deploy it with gcloud:

  Cloud Functions (2nd gen), HTTP (default):
    gcloud functions deploy NAME --gen2 --runtime={RUNTIME} --entry-point=predict --trigger-http
  Cloud Functions (2nd gen), Pub/Sub topic (--trigger-topic TOPIC):
    gcloud functions deploy NAME --gen2 --runtime={RUNTIME} --entry-point=predict_event \
--trigger-topic=TOPIC --retry
  Cloud Run (--platform run), the model loaded at start (IRISSERVE_EAGER_LOAD=1):
    gcloud run deploy NAME --source=DIR --function=predict --base-image={RUNTIME}"""

_EPILOG = f"""\
Every deployment sets GOOGLE_CLOUD_PROJECT, IRISSERVE_MODEL_DIR=model (the staged
artifact, relative to the source root the function runs in) and THREADS.
With --model-dir gs://BUCKET/PREFIX nothing is staged for the model: it sets
IRISSERVE_MODEL_DIR to that URL and IRISSERVE_MODEL_SHA256 to the sha256 of the
manifest.json there (read and checked now, with Application Default Credentials),
and first grants --service-account {READ_ROLE} on the bucket.
Without --dry-run, gcloud must be installed with an active account
(gcloud auth login); the service URL is printed at the end.
Bad arguments exit with status 2 before anything is staged or called."""

_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_REGION = re.compile(r"[a-z]+(-[a-z]+)+[0-9]+")
_NAME = re.compile(r"[a-z]([a-z0-9-]{0,47}[a-z0-9])?")
_MEMORY = re.compile(r"[1-9][0-9]*(Mi|Gi|M|G)")
_CPU = re.compile(r"[1-9][0-9]*(\.[0-9]+)?|0?\.[0-9]+")
_TOPIC_ID = re.compile(r"[A-Za-z][A-Za-z0-9._~%+-]{2,254}")
_TOPIC_PATH = re.compile(r"projects/[^/]+/topics/([^/]+)")
_ENV_PAIR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*", re.DOTALL)
_ACCOUNT = re.compile(r"[^@\s]+@[^@\s]+")
#: What gcloud may split --set-env-vars on instead of commas (``gcloud topic escaping``).
_DELIMITERS = ("@", "|", ";", "~", "@@")


class UsageError(ValueError):
    """An argument that cannot be used; the message names it."""


@dataclass(frozen=True)
class Options:
    """Everything a deployment needs, checked: paths absolute, topics full names."""

    project: str
    region: str
    name: str
    platform: str
    topic: str | None
    model_dir: Path | GcsLocation
    #: gs:// only: read the bucket's manifest now and pin its sha256 (no --model-sha256
    #: given, no --no-pin).
    pin_from_bucket: bool
    wheel: Path | None
    memory: str
    cpu: str
    concurrency: int
    min_instances: int
    max_instances: int
    timeout: str
    env: tuple[str, ...]
    env_delimiter: str
    service_account: str | None
    allow_unauthenticated: bool
    create_log_metrics: bool
    stage_dir: Path
    dry_run: bool
    #: ``NAME==VERSION`` pins staged after the lock's: the libraries beyond the lock that
    #: the backend serving the model needs (``deploy.stage.check_options`` finds them).
    libraries: tuple[str, ...] = ()


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors said in one line as ``deploy.sh: ...``."""

    def error(self, message: str) -> NoReturn:
        if missing := re.fullmatch(r"argument (\S+): expected one argument", message):
            message = f"{missing[1]} needs a value"
        elif extra := re.fullmatch(r"argument (\S+): ignored explicit argument .*", message):
            message = f"{extra[1]} takes no value"
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="./deploy.sh",
        usage="./deploy.sh --project PROJECT [options]",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    required = parser.add_argument_group("Required")
    required.add_argument("--project", metavar="ID", help="Google Cloud project to deploy into")
    where = parser.add_argument_group("Where and what")
    where.add_argument("--region", default="us-central1", help="region (default: us-central1)")
    where.add_argument(
        "--name",
        default="irisserve-predict",
        help="function / service name: lowercase letters, digits, hyphens, at most 49 "
        "characters (default: irisserve-predict)",
    )
    where.add_argument(
        "--platform",
        default="functions",
        metavar="functions|run",
        help="Cloud Functions 2nd gen or Cloud Run (default: functions)",
    )
    where.add_argument("--trigger-http", action="store_true", help="HTTP trigger (the default)")
    where.add_argument(
        "--trigger-topic",
        metavar="TOPIC",
        help="Pub/Sub topic ID: deploys predict_event, retried on failure",
    )
    where.add_argument(
        "--model-dir",
        metavar="DIR",
        default=str(BUNDLED_MODEL),
        help="artifact folder to serve (default: the bundled Iris model), or "
        "gs://BUCKET/PREFIX to load it from Cloud Storage; checked against its manifest "
        "and the lock's scikit-learn",
    )
    where.add_argument(
        "--model-sha256",
        metavar="HEX",
        help="gs:// only: the manifest sha256 to pin (IRISSERVE_MODEL_SHA256) instead of "
        "reading it from the bucket now",
    )
    where.add_argument(
        "--no-pin",
        action="store_true",
        help="gs:// only: set no IRISSERVE_MODEL_SHA256, so a write to the bucket changes "
        "the model at the next cold start",
    )
    where.add_argument(
        "--wheel", metavar="FILE", help="ship this irisserve wheel instead of building one"
    )
    settings = parser.add_argument_group("Settings (Cloud Functions and Cloud Run alike)")
    settings.add_argument(
        "--memory", metavar="SIZE", default="512Mi", help="memory, e.g. 512Mi, 1Gi (default: 512Mi)"
    )
    settings.add_argument(
        "--cpu",
        metavar="N",
        default="1",
        help="CPUs, e.g. 1, 2, .5 (default: 1; concurrency > 1 needs 1 or more)",
    )
    settings.add_argument(
        "--concurrency",
        metavar="N",
        default="8",
        help="requests per instance; also sets THREADS, the functions-framework thread "
        "count (default: 8)",
    )
    settings.add_argument(
        "--min-instances", metavar="N", default="0", help="instances kept warm (default: 0)"
    )
    settings.add_argument(
        "--max-instances", metavar="N", default="10", help="instance ceiling (default: 10)"
    )
    settings.add_argument(
        "--timeout",
        metavar="SECONDS",
        default="60s",
        help="request timeout, e.g. 60 or 60s (default: 60s; at most 3600s, 540s with "
        "--trigger-topic)",
    )
    settings.add_argument(
        "--env",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="extra environment variable (repeatable; overrides ours)",
    )
    settings.add_argument(
        "--result-topic",
        metavar="TOPIC",
        help="IRISSERVE_RESULT_TOPIC: where scored Pub/Sub messages go",
    )
    settings.add_argument(
        "--dead-letter-topic",
        metavar="TOPIC",
        help="IRISSERVE_DEAD_LETTER_TOPIC: where unscorable messages go (a topic ID in "
        "--project, or projects/P/topics/T)",
    )
    settings.add_argument(
        "--service-account",
        metavar="EMAIL",
        help="runtime service account (default: the platform's)",
    )
    settings.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="make the HTTP endpoint public (default: private, callers need "
        "roles/run.invoker and an identity token)",
    )
    monitoring = parser.add_argument_group("Monitoring")
    monitoring.add_argument(
        "--create-log-metrics",
        action="store_true",
        help="also create (or, when they exist, update) log-based metrics over the request "
        "log lines: NAME-request-latency (distribution of httpRequest.latency, labelled "
        "cold), NAME-errors (4xx/5xx count by error_code and status), "
        "NAME-out-of-range-rows (distribution of drifted rows)",
    )
    running = parser.add_argument_group("Running")
    running.add_argument(
        "--stage-dir",
        metavar="DIR",
        help="where to stage (default: build/deploy/NAME); replaced only if empty or "
        "staged before by this script",
    )
    running.add_argument(
        "--dry-run",
        action="store_true",
        help="stage, print the exact gcloud commands, call nothing",
    )
    return parser


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise UsageError(message)


def _topic_id(value: str) -> bool:
    """A Pub/Sub topic ID: 3-255 characters, starting with a letter, not with "goog"."""
    return _TOPIC_ID.fullmatch(value) is not None and not value.startswith("goog")


def _topic_path(flag: str, value: str, project: str) -> str:
    """``projects/P/topics/T`` for a topic ID in ``project`` or a full topic name."""
    full = _TOPIC_PATH.fullmatch(value)
    if full is not None and _topic_id(full[1]):
        return value
    _require(_topic_id(value), f"{flag} '{value}' is not a Pub/Sub topic ID or projects/P/topics/T")
    return f"projects/{project}/topics/{value}"


def _whole(flag: str, value: str, pattern: str, meaning: str) -> int:
    _require(re.fullmatch(pattern, value) is not None, f"{flag} '{value}' must be {meaning}")
    return int(value)


def _environment(ours: list[str], extra: list[str]) -> tuple[tuple[str, ...], str]:
    """Ours first, then ``--env`` (a repeated key keeps its place and its last value),
    and the delimiter gcloud must split them on."""
    values: dict[str, str] = {}
    for pair in [*ours, *extra]:
        _require(_ENV_PAIR.fullmatch(pair) is not None, f"--env '{pair}' is not KEY=VALUE")
        key, value = pair.split("=", 1)
        values[key] = value
    pairs = tuple(f"{key}={value}" for key, value in values.items())
    joined = " ".join(pairs)
    if "," not in joined:
        return pairs, ","
    for delimiter in _DELIMITERS:
        if delimiter not in joined:
            return pairs, delimiter
    raise UsageError("--env values hold commas and every delimiter deploy.sh could use instead")


def _stage_dir(given: str | None, name: str) -> Path:
    stage = Path.cwd() / given if given else REPO / "build" / "deploy" / name
    if stage.exists() and not (stage / STAGE_MARKER).exists():
        _require(
            stage.is_dir() and not any(stage.iterdir()),
            f"--stage-dir '{stage}' exists and was not staged by deploy.sh: refusing to replace it",
        )
    return stage


def _model_dir(args: argparse.Namespace) -> Path | GcsLocation:
    """A checked folder, or a gs:// location with what its pinning needs."""
    if not args.model_dir.startswith("gs://"):
        _require(
            args.model_sha256 is None and not args.no_pin,
            "--model-sha256 and --no-pin apply to a gs:// --model-dir only (a folder is "
            "staged into the source: it changes only with a redeploy)",
        )
        model_dir = Path(args.model_dir)
        _require(model_dir.is_dir(), f"--model-dir '{args.model_dir}' is not a folder")
        return model_dir.resolve()
    try:
        location = GcsLocation.parse(args.model_dir)
    except ConfigurationError:
        raise UsageError(f"--model-dir '{args.model_dir}' is not gs://BUCKET/PREFIX") from None
    _require(
        args.service_account is not None,
        f"--model-dir gs://... needs --service-account EMAIL: the runtime service account "
        f"deploy.sh grants {READ_ROLE} on gs://{location.bucket}",
    )
    _require(
        args.model_sha256 is None or not args.no_pin,
        "--model-sha256 and --no-pin exclude each other",
    )
    _require(
        args.model_sha256 is None or re.fullmatch(r"[0-9a-f]{64}", args.model_sha256) is not None,
        f"--model-sha256 '{args.model_sha256}' is not a sha256 (64 lowercase hex digits)",
    )
    return location


def pinned(options: Options, sha256: str) -> Options:
    """``options`` with ``IRISSERVE_MODEL_SHA256`` after ``IRISSERVE_MODEL_DIR`` (an
    ``--env`` that sets it wins)."""
    keys = [pair.split("=", 1)[0] for pair in options.env]
    if "IRISSERVE_MODEL_SHA256" in keys:
        return replace(options, pin_from_bucket=False)
    at = keys.index("IRISSERVE_MODEL_DIR") + 1
    env = (*options.env[:at], f"IRISSERVE_MODEL_SHA256={sha256}", *options.env[at:])
    return replace(options, env=env, pin_from_bucket=False)


def _check(args: argparse.Namespace) -> Options:
    project = args.project or ""
    _require(bool(project), "missing --project (the Google Cloud project ID to deploy into)")
    _require(
        _PROJECT.fullmatch(project) is not None,
        f"--project '{project}' is not a project ID (6-30 lowercase letters, digits, hyphens)",
    )
    _require(
        _REGION.fullmatch(args.region) is not None,
        f"--region '{args.region}' is not a region such as us-central1 or europe-west1",
    )
    _require(
        _NAME.fullmatch(args.name) is not None,
        f"--name '{args.name}' must be lowercase letters, digits and hyphens, start with a "
        "letter, at most 49 characters",
    )
    _require(
        args.platform in {"functions", "run"},
        f"--platform '{args.platform}' must be functions or run",
    )
    topic = args.trigger_topic
    if topic is not None:
        _require(
            not args.trigger_http,
            "--trigger-http and --trigger-topic exclude each other: pick one trigger",
        )
        _require(
            _topic_id(topic),
            f"--trigger-topic '{topic}' is not a Pub/Sub topic ID "
            "(a name, not projects/P/topics/T)",
        )
        _require(
            args.platform == "functions",
            "--trigger-topic needs --platform functions (Cloud Run is deployed for HTTP only)",
        )
        _require(
            not args.allow_unauthenticated,
            "--allow-unauthenticated applies to HTTP only, not to --trigger-topic",
        )
    _require(
        _MEMORY.fullmatch(args.memory) is not None,
        f"--memory '{args.memory}' is not a size such as 512Mi, 1Gi or 2G",
    )
    _require(
        _CPU.fullmatch(args.cpu) is not None,
        f"--cpu '{args.cpu}' is not a CPU count such as 1, 2 or .5",
    )
    concurrency = _whole(
        "--concurrency", args.concurrency, r"[1-9][0-9]{0,3}", "a whole number from 1 to 1000"
    )
    _require(
        concurrency <= 1000,
        f"--concurrency '{args.concurrency}' must be a whole number from 1 to 1000",
    )
    _require(
        concurrency == 1 or re.match(r"0?\.", args.cpu) is None,
        f"--concurrency {concurrency} needs --cpu 1 or more (got {args.cpu})",
    )
    min_instances = _whole(
        "--min-instances", args.min_instances, r"[0-9]{1,4}", "a whole number, 0 or more"
    )
    max_instances = _whole(
        "--max-instances", args.max_instances, r"[1-9][0-9]{0,3}", "a whole number, 1 or more"
    )
    _require(
        min_instances <= max_instances,
        f"--min-instances {args.min_instances} is above --max-instances {args.max_instances}",
    )
    seconds = args.timeout.removesuffix("s")
    limit = 3600 if topic is None else 540
    _require(
        re.fullmatch(r"[1-9][0-9]{0,3}", seconds) is not None and int(seconds) <= limit,
        f"--timeout '{args.timeout}' must be 1 to {limit} seconds",
    )
    model_dir = _model_dir(args)
    source = "model" if isinstance(model_dir, Path) else str(model_dir)
    ours = [f"GOOGLE_CLOUD_PROJECT={project}", f"IRISSERVE_MODEL_DIR={source}"]
    if args.model_sha256:
        ours.append(f"IRISSERVE_MODEL_SHA256={args.model_sha256}")
    ours.append(f"THREADS={concurrency}")
    if args.platform == "run":
        ours.append("IRISSERVE_EAGER_LOAD=1")
    if args.result_topic:
        topic_path = _topic_path("--result-topic", args.result_topic, project)
        ours.append(f"IRISSERVE_RESULT_TOPIC={topic_path}")
    if args.dead_letter_topic:
        topic_path = _topic_path("--dead-letter-topic", args.dead_letter_topic, project)
        ours.append(f"IRISSERVE_DEAD_LETTER_TOPIC={topic_path}")
    account = args.service_account or None
    _require(
        account is None or _ACCOUNT.fullmatch(account) is not None,
        f"--service-account '{account}' is not a service account email",
    )
    env, delimiter = _environment(ours, args.env)
    wheel = None
    if args.wheel:
        wheel = Path(args.wheel).absolute()
        _require(
            wheel.is_file() and re.fullmatch(r"irisserve-.*\.whl", wheel.name) is not None,
            f"--wheel '{args.wheel}' is not an irisserve wheel file",
        )
    return Options(
        project=project,
        region=args.region,
        name=args.name,
        platform=args.platform,
        topic=topic,
        model_dir=model_dir,
        pin_from_bucket=isinstance(model_dir, GcsLocation)
        and not args.model_sha256
        and not args.no_pin,
        wheel=wheel,
        memory=args.memory,
        cpu=args.cpu,
        concurrency=concurrency,
        min_instances=min_instances,
        max_instances=max_instances,
        timeout=f"{seconds}s",
        env=env,
        env_delimiter=delimiter,
        service_account=account,
        allow_unauthenticated=args.allow_unauthenticated,
        create_log_metrics=args.create_log_metrics,
        stage_dir=_stage_dir(args.stage_dir, args.name),
        dry_run=args.dry_run,
    )


def parse(argv: Sequence[str] | None = None) -> Options:
    """The checked options of ``argv``; ``UsageError`` names the first bad one.

    ``--help`` prints the help and exits 0.
    """
    parser = _parser()
    args, extra = parser.parse_known_args(sys.argv[1:] if argv is None else list(argv))
    if extra:
        word = extra[0]
        if word.startswith("-"):
            raise UsageError(f"unknown option {word.split('=')[0]} (see --help)")
        raise UsageError(f"unexpected argument '{word}' (see --help)")
    return _check(args)
