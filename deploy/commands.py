"""The gcloud commands of a deployment, as argument lists: run as they are, printed with
``shlex.join``.

A :class:`Step` is one command, or a command and the one to run when it fails (a
log-based metric is created, or updated when it exists).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from deploy.options import RUNTIME, Options
from irisserve.artifact.storage import READ_ROLE
from irisserve.config import GcsLocation

__all__ = ["LOG_METRICS", "Plan", "Step", "gcloud", "plan"]

#: The log-based metrics ``--create-log-metrics`` creates, by name suffix.
LOG_METRICS = ("request-latency", "errors", "out-of-range-rows")

_LATENCY = """\
description: 'irisserve request latency in seconds (httpRequest.latency), labelled by cold start'
filter: '{lines} AND httpRequest.status>0'
valueExtractor: 'REGEXP_EXTRACT(httpRequest.latency, "([0-9.]+)s")'
labelExtractors:
  cold: 'EXTRACT(jsonPayload.irisserve.cold)'
metricDescriptor:
  metricKind: DELTA
  valueType: DISTRIBUTION
  unit: s
  labels:
  - key: cold
    valueType: BOOL
bucketOptions:
  exponentialBuckets: {{numFiniteBuckets: 32, growthFactor: 1.5, scale: 0.001}}
"""

_ERRORS = """\
description: 'irisserve error responses (4xx and 5xx) by error code and status'
filter: '{lines} AND httpRequest.status>=400'
labelExtractors:
  error_code: 'EXTRACT(jsonPayload.irisserve.error_code)'
  status: 'EXTRACT(httpRequest.status)'
metricDescriptor:
  metricKind: DELTA
  valueType: INT64
  unit: '1'
  labels:
  - key: error_code
    valueType: STRING
  - key: status
    valueType: INT64
"""

_OUT_OF_RANGE = """\
description: 'irisserve rows per request with a feature outside its training range (drift)'
filter: '{lines} AND jsonPayload.irisserve.out_of_range_rows>0'
valueExtractor: 'EXTRACT(jsonPayload.irisserve.out_of_range_rows)'
metricDescriptor:
  metricKind: DELTA
  valueType: DISTRIBUTION
  unit: '1'
bucketOptions:
  exponentialBuckets: {{numFiniteBuckets: 16, growthFactor: 2, scale: 1}}
"""

_CONFIGS = dict(zip(LOG_METRICS, (_LATENCY, _ERRORS, _OUT_OF_RANGE), strict=True))


@dataclass(frozen=True)
class Step:
    """A command, and the one to run instead when it fails (``None``: a failure stops)."""

    command: list[str]
    otherwise: list[str] | None = None


@dataclass(frozen=True)
class Plan:
    """The steps in order, then the command that prints the service URL."""

    steps: list[Step]
    url: list[str]


def gcloud() -> str:
    """The Google Cloud CLI to call: ``$GCLOUD``, or ``gcloud`` on the PATH."""
    return os.environ.get("GCLOUD", "gcloud")


def _env_flag(options: Options) -> str:
    """``--set-env-vars``, in gcloud's ``^DELIM^`` form when a value holds a comma."""
    joined = options.env_delimiter.join(options.env)
    if options.env_delimiter != ",":
        joined = f"^{options.env_delimiter}^{joined}"
    return f"--set-env-vars={joined}"


def _deploy(options: Options, cli: str) -> Plan:
    where = [f"--project={options.project}", f"--region={options.region}"]
    settings = [
        f"--memory={options.memory}",
        f"--cpu={options.cpu}",
        f"--concurrency={options.concurrency}",
        f"--min-instances={options.min_instances}",
        f"--max-instances={options.max_instances}",
        f"--timeout={options.timeout}",
    ]
    if options.service_account:
        settings.append(f"--service-account={options.service_account}")
    settings.append(_env_flag(options))
    access = (
        "--allow-unauthenticated"
        if options.allow_unauthenticated
        else ("--no-allow-unauthenticated")
    )
    source = f"--source={options.stage_dir}"
    if options.platform == "run":
        deploy = [cli, "run", "deploy", options.name, *where, source, "--function=predict"]
        deploy += [f"--base-image={RUNTIME}", *settings, access]
        url = [cli, "run", "services", "describe", options.name, *where]
        return Plan([Step(deploy)], [*url, "--format=value(status.url)"])
    deploy = [cli, "functions", "deploy", options.name, "--gen2", f"--runtime={RUNTIME}"]
    deploy += [*where, source]
    if options.topic is not None:
        deploy += ["--entry-point=predict_event", f"--trigger-topic={options.topic}", "--retry"]
        deploy += settings
    else:
        deploy += ["--entry-point=predict", "--trigger-http", *settings, access]
    url = [cli, "functions", "describe", options.name, "--v2", *where]
    return Plan([Step(deploy)], [*url, "--format=value(serviceConfig.uri)"])


def _log_metrics(options: Options, cli: str) -> list[Step]:
    """One config per metric in the stage folder's ``log-metrics/`` (never uploaded).

    The filters select this service's request lines on stdout (Cloud Run's own
    request log also has ``httpRequest``: it is left out).
    """
    folder = options.stage_dir / "log-metrics"
    folder.mkdir(parents=True, exist_ok=True)
    lines = (
        f'resource.type="cloud_run_revision" AND resource.labels.service_name="{options.name}"'
        f' AND logName="projects/{options.project}/logs/run.googleapis.com%2Fstdout"'
    )
    steps = []
    for metric, template in _CONFIGS.items():
        config: Path = folder / f"{metric}.yaml"
        config.write_text(template.format(lines=lines))
        args = [f"{options.name}-{metric}", f"--project={options.project}"]
        args.append(f"--config-from-file={config}")
        create = [cli, "logging", "metrics", "create", *args]
        steps.append(Step(create, [cli, "logging", "metrics", "update", *args]))
    return steps


def _grant(options: Options, cli: str) -> list[Step]:
    """For a gs:// model: let the runtime service account read the bucket, first."""
    if not isinstance(options.model_dir, GcsLocation):
        return []
    bucket = f"gs://{options.model_dir.bucket}"
    member = f"--member=serviceAccount:{options.service_account}"
    grant = [cli, "storage", "buckets", "add-iam-policy-binding", bucket, member]
    return [Step([*grant, f"--role={READ_ROLE}", f"--project={options.project}"])]


def plan(options: Options) -> Plan:
    """The deployment's commands (writing the metric configs into the staged folder)."""
    cli = gcloud()
    deployment = _deploy(options, cli)
    deployment.steps[:0] = _grant(options, cli)
    if options.create_log_metrics:
        deployment.steps.extend(_log_metrics(options, cli))
    return deployment
