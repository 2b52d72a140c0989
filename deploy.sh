#!/usr/bin/env bash
# Stage a pinned, self-contained source folder and deploy irisserve with gcloud.
# Run `./deploy.sh --help` for the options.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOCK=$REPO/requirements/serve.txt
ENTRY_POINTS=$REPO/functions/predict/main.py
BUNDLED_MODEL=$REPO/src/irisserve/artifacts/iris
RUNTIME=python311
STAGE_MARKER=.irisserve-stage
GCLOUD=${GCLOUD:-gcloud}

usage() {
  cat <<EOF
Usage: ./deploy.sh --project PROJECT [options]

Stage a self-contained source folder (main.py, a requirements.txt pinned to
requirements/serve.txt plus the irisserve wheel built from this checkout, the
model artifact, a .gcloudignore), then deploy it with gcloud:

  Cloud Functions (2nd gen), HTTP (default):
    gcloud functions deploy NAME --gen2 --runtime=$RUNTIME --entry-point=predict --trigger-http
  Cloud Functions (2nd gen), Pub/Sub topic (--trigger-topic TOPIC):
    gcloud functions deploy NAME --gen2 --runtime=$RUNTIME --entry-point=predict_event --trigger-topic=TOPIC --retry
  Cloud Run (--platform run), the model loaded at start (IRISSERVE_EAGER_LOAD=1):
    gcloud run deploy NAME --source=DIR --function=predict --base-image=$RUNTIME

Required:
  --project ID              Google Cloud project to deploy into

Where and what:
  --region REGION           region (default: us-central1)
  --name NAME               function / service name: lowercase letters, digits,
                            hyphens, at most 49 characters (default: irisserve-predict)
  --platform functions|run  Cloud Functions 2nd gen or Cloud Run (default: functions)
  --trigger-http            HTTP trigger (the default)
  --trigger-topic TOPIC     Pub/Sub topic ID: deploys predict_event, retried on failure
  --model-dir DIR           artifact folder to serve (default: the bundled Iris model);
                            checked against its manifest and the lock's scikit-learn
  --wheel FILE              ship this irisserve wheel instead of building one

Settings (Cloud Functions and Cloud Run alike):
  --memory SIZE             memory, e.g. 512Mi, 1Gi (default: 512Mi)
  --cpu N                   CPUs, e.g. 1, 2, .5 (default: 1; concurrency > 1 needs 1 or more)
  --concurrency N           requests per instance; also sets THREADS, the
                            functions-framework thread count (default: 8)
  --min-instances N         instances kept warm (default: 0)
  --max-instances N         instance ceiling (default: 10)
  --timeout SECONDS         request timeout, e.g. 60 or 60s (default: 60s;
                            at most 3600s, 540s with --trigger-topic)
  --env KEY=VALUE           extra environment variable (repeatable; overrides ours)
  --result-topic TOPIC      IRISSERVE_RESULT_TOPIC: where scored Pub/Sub messages go
  --dead-letter-topic TOPIC IRISSERVE_DEAD_LETTER_TOPIC: where unscorable messages go
                            (a topic ID in --project, or projects/P/topics/T)
  --service-account EMAIL   runtime service account (default: the platform's)
  --allow-unauthenticated   make the HTTP endpoint public (default: private,
                            callers need roles/run.invoker and an identity token)

Monitoring:
  --create-log-metrics      also create (or, when they exist, update) log-based metrics
                            over the request log lines: NAME-request-latency
                            (distribution of httpRequest.latency, labelled cold),
                            NAME-errors (4xx/5xx count by error_code and status),
                            NAME-out-of-range-rows (distribution of drifted rows)

Running:
  --stage-dir DIR           where to stage (default: build/deploy/NAME); replaced
                            only if empty or staged before by this script
  --dry-run                 stage, print the exact gcloud commands, call nothing
  -h, --help                this help

Every deployment sets GOOGLE_CLOUD_PROJECT, IRISSERVE_MODEL_DIR=model (the staged
artifact, relative to the source root the function runs in) and THREADS.
Without --dry-run, gcloud must be installed with an active account
(gcloud auth login); the service URL is printed at the end.
Bad arguments exit with status 2 before anything is staged or called.
EOF
}

usage_error() {
  echo "deploy.sh: $*" >&2
  exit 2
}

fail() {
  echo "deploy.sh: $*" >&2
  exit 1
}

# ---------------------------------------------------------------- arguments

project="" region=us-central1 name=irisserve-predict platform=functions
trigger=http trigger_http=0 topic="" model_dir=$BUNDLED_MODEL wheel=""
memory=512Mi cpu=1 concurrency=8 min_instances=0 max_instances=10 timeout=60s
result_topic="" dead_letter_topic="" service_account="" allow_unauthenticated=0
stage_dir="" dry_run=0 create_log_metrics=0
extra_env=()
# Worked out from the arguments: the deployed environment, the commands to run in order
# (plan_deploy queues the deployment; more steps queue theirs with plan) and the URL query.
ENV_PAIRS=() ENV_DELIMITER=, PLAN=() URL_COMMAND=()

takes_value() {
  case $1 in
    --project | --region | --name | --platform | --trigger-topic | --model-dir | --wheel | \
      --memory | --cpu | --concurrency | --min-instances | --max-instances | --timeout | \
      --env | --result-topic | --dead-letter-topic | --service-account | --stage-dir)
      return 0
      ;;
  esac
  return 1
}

parse_args() {
  local arg value inline
  while (($#)); do
    arg=$1
    shift
    inline=0
    value=""
    if [[ $arg == --*=* ]]; then
      value=${arg#*=}
      arg=${arg%%=*}
      inline=1
    fi
    if takes_value "$arg"; then
      if ((!inline)); then
        (($#)) || usage_error "$arg needs a value"
        value=$1
        shift
      fi
    elif ((inline)); then
      usage_error "$arg takes no value"
    fi
    case $arg in
      -h | --help) usage; exit 0 ;;
      --project) project=$value ;;
      --region) region=$value ;;
      --name) name=$value ;;
      --platform) platform=$value ;;
      --trigger-http) trigger_http=1 ;;
      --trigger-topic) topic=$value trigger=topic ;;
      --model-dir) model_dir=$value ;;
      --wheel) wheel=$value ;;
      --memory) memory=$value ;;
      --cpu) cpu=$value ;;
      --concurrency) concurrency=$value ;;
      --min-instances) min_instances=$value ;;
      --max-instances) max_instances=$value ;;
      --timeout) timeout=$value ;;
      --env) extra_env+=("$value") ;;
      --result-topic) result_topic=$value ;;
      --dead-letter-topic) dead_letter_topic=$value ;;
      --service-account) service_account=$value ;;
      --allow-unauthenticated) allow_unauthenticated=1 ;;
      --stage-dir) stage_dir=$value ;;
      --create-log-metrics) create_log_metrics=1 ;;
      --dry-run) dry_run=1 ;;
      -*) usage_error "unknown option $arg (see --help)" ;;
      *) usage_error "unexpected argument '$arg' (see --help)" ;;
    esac
  done
}

# A Pub/Sub topic ID: 3-255 characters, starting with a letter, not with "goog".
valid_topic_id() {
  [[ $1 =~ ^[A-Za-z][A-Za-z0-9._~%+-]{2,254}$ && $1 != goog* ]]
}

# projects/PROJECT/topics/TOPIC for a topic ID in --project or a full topic name.
topic_path() {
  local flag=$1 value=$2
  if [[ $value =~ ^projects/[^/]+/topics/([^/]+)$ ]] && valid_topic_id "${BASH_REMATCH[1]}"; then
    echo "$value"
  elif valid_topic_id "$value"; then
    echo "projects/$project/topics/$value"
  else
    usage_error "$flag '$value' is not a Pub/Sub topic ID or projects/P/topics/T"
  fi
}

validate_args() {
  [[ -n $project ]] || usage_error "missing --project (the Google Cloud project ID to deploy into)"
  [[ $project =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] ||
    usage_error "--project '$project' is not a project ID (6-30 lowercase letters, digits, hyphens)"
  [[ $region =~ ^[a-z]+(-[a-z]+)+[0-9]+$ ]] ||
    usage_error "--region '$region' is not a region such as us-central1 or europe-west1"
  [[ $name =~ ^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$ ]] ||
    usage_error "--name '$name' must be lowercase letters, digits and hyphens, start with a letter, at most 49 characters"
  [[ $platform == functions || $platform == run ]] ||
    usage_error "--platform '$platform' must be functions or run"
  if [[ $trigger == topic ]]; then
    ((!trigger_http)) || usage_error "--trigger-http and --trigger-topic exclude each other: pick one trigger"
    valid_topic_id "$topic" ||
      usage_error "--trigger-topic '$topic' is not a Pub/Sub topic ID (a name, not projects/P/topics/T)"
    [[ $platform == functions ]] ||
      usage_error "--trigger-topic needs --platform functions (Cloud Run is deployed for HTTP only)"
    ((!allow_unauthenticated)) ||
      usage_error "--allow-unauthenticated applies to HTTP only, not to --trigger-topic"
  fi
  [[ $memory =~ ^[1-9][0-9]*(Mi|Gi|M|G)$ ]] ||
    usage_error "--memory '$memory' is not a size such as 512Mi, 1Gi or 2G"
  [[ $cpu =~ ^([1-9][0-9]*(\.[0-9]+)?|0?\.[0-9]+)$ ]] ||
    usage_error "--cpu '$cpu' is not a CPU count such as 1, 2 or .5"
  if [[ ! $concurrency =~ ^[1-9][0-9]{0,3}$ ]] || ((concurrency > 1000)); then
    usage_error "--concurrency '$concurrency' must be a whole number from 1 to 1000"
  fi
  if ((concurrency > 1)) && [[ $cpu =~ ^0?\. ]]; then
    usage_error "--concurrency $concurrency needs --cpu 1 or more (got $cpu)"
  fi
  [[ $min_instances =~ ^[0-9]{1,4}$ ]] ||
    usage_error "--min-instances '$min_instances' must be a whole number, 0 or more"
  [[ $max_instances =~ ^[1-9][0-9]{0,3}$ ]] ||
    usage_error "--max-instances '$max_instances' must be a whole number, 1 or more"
  ((10#$min_instances <= 10#$max_instances)) ||
    usage_error "--min-instances $min_instances is above --max-instances $max_instances"
  local seconds=${timeout%s} limit=3600
  [[ $trigger == http ]] || limit=540
  if [[ ! $seconds =~ ^[1-9][0-9]{0,3}$ ]] || ((seconds > limit)); then
    usage_error "--timeout '$timeout' must be 1 to $limit seconds"
  fi
  timeout=${seconds}s
  [[ -z $result_topic ]] || result_topic=$(topic_path --result-topic "$result_topic")
  [[ -z $dead_letter_topic ]] || dead_letter_topic=$(topic_path --dead-letter-topic "$dead_letter_topic")
  [[ -z $service_account || $service_account =~ ^[^@[:space:]]+@[^@[:space:]]+$ ]] ||
    usage_error "--service-account '$service_account' is not a service account email"
  collect_env
  if [[ -n $wheel ]]; then
    [[ -f $wheel && $(basename "$wheel") == irisserve-*.whl ]] ||
      usage_error "--wheel '$wheel' is not an irisserve wheel file"
    wheel=$(cd "$(dirname "$wheel")" && pwd)/$(basename "$wheel")
  fi
  [[ -d $model_dir ]] || usage_error "--model-dir '$model_dir' is not a folder"
  model_dir=$(cd "$model_dir" && pwd)
  check_model
  stage_dir=${stage_dir:-$REPO/build/deploy/$name}
  [[ $stage_dir == /* ]] || stage_dir=$PWD/$stage_dir
  if [[ -e $stage_dir && ! -e $stage_dir/$STAGE_MARKER ]]; then
    [[ -d $stage_dir && -z $(ls -A "$stage_dir") ]] ||
      usage_error "--stage-dir '$stage_dir' exists and was not staged by deploy.sh: refusing to replace it"
  fi
}

# The deployed environment: ours first, then --env (a repeated key keeps its last value).
collect_env() {
  local -a keys=() ours=("GOOGLE_CLOUD_PROJECT=$project" "IRISSERVE_MODEL_DIR=model"
    "THREADS=$concurrency")
  local -A values=()
  local pair key
  [[ $platform == functions ]] || ours+=("IRISSERVE_EAGER_LOAD=1")
  [[ -z $result_topic ]] || ours+=("IRISSERVE_RESULT_TOPIC=$result_topic")
  [[ -z $dead_letter_topic ]] || ours+=("IRISSERVE_DEAD_LETTER_TOPIC=$dead_letter_topic")
  for pair in "${ours[@]}" "${extra_env[@]}"; do
    [[ $pair =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || usage_error "--env '$pair' is not KEY=VALUE"
    key=${pair%%=*}
    [[ -v "values[$key]" ]] || keys+=("$key")
    values[$key]=${pair#*=}
  done
  ENV_PAIRS=()
  for key in "${keys[@]}"; do
    ENV_PAIRS+=("$key=${values[$key]}")
  done
  # gcloud splits --set-env-vars on commas; a value with one needs the ^DELIM^ form.
  ENV_DELIMITER=,
  [[ ${ENV_PAIRS[*]} == *,* ]] || return 0
  for ENV_DELIMITER in '@' '|' ';' '~' '@@'; do
    [[ ${ENV_PAIRS[*]} == *"$ENV_DELIMITER"* ]] || return 0
  done
  usage_error "--env values hold commas and every delimiter deploy.sh could use instead"
}

python_bin() {
  if [[ -x $REPO/.venv/bin/python ]]; then
    echo "$REPO/.venv/bin/python"
  else
    echo python3
  fi
}

# The artifact must match its manifest, and have been trained by the scikit-learn the lock pins.
check_model() {
  local report pinned
  report=$(PYTHONPATH="$REPO/src" "$(python_bin)" - "$model_dir" <<'PY'
import sys
from pathlib import Path

from irisserve.manifest import read_manifest, verify_files

folder = Path(sys.argv[1])
try:
    manifest = read_manifest(folder)
    verify_files(folder, manifest)
except Exception as exc:  # the message names what is wrong with the folder
    print("error", exc)
else:
    print("ok", manifest.libraries.get("scikit-learn", "unknown"))
PY
  )
  [[ $report == ok\ * ]] || usage_error "--model-dir '$model_dir': ${report#error }"
  pinned=$(sed -n 's/^scikit-learn==\([^[:space:];]*\).*/\1/p' "$LOCK")
  [[ ${report#ok } == "$pinned" ]] ||
    usage_error "--model-dir '$model_dir' was trained with scikit-learn ${report#ok }, requirements/serve.txt pins $pinned: retrain or re-lock"
}

# ---------------------------------------------------------------- staging

build_wheel() {
  local out=$1
  if [[ -n $wheel ]]; then
    cp "$wheel" "$out/"
  elif [[ -x $REPO/.venv/bin/uv ]]; then
    "$REPO/.venv/bin/uv" build --quiet --wheel --no-create-gitignore --out-dir "$out" "$REPO"
  else
    "$(python_bin)" -m pip wheel --quiet --no-deps --wheel-dir "$out" "$REPO"
  fi
}

stage() {
  rm -rf "$stage_dir"
  mkdir -p "$stage_dir/wheels"
  : >"$stage_dir/$STAGE_MARKER"
  cp "$ENTRY_POINTS" "$stage_dir/main.py"
  cp -R "$model_dir" "$stage_dir/model"
  build_wheel "$stage_dir/wheels"
  local wheels=("$stage_dir"/wheels/irisserve-*.whl)
  ((${#wheels[@]} == 1)) || fail "expected one irisserve wheel in $stage_dir/wheels, found ${#wheels[@]}"
  {
    echo "# Generated by deploy.sh from requirements/serve.txt: every dependency pinned."
    echo "# pip resolves ./wheels relative to the folder it runs in; the buildpack runs it here."
    sed -e 's/[[:space:]]*#.*$//' -e '/^[[:space:]]*$/d' "$LOCK"
    echo "./wheels/$(basename "${wheels[0]}")"
  } >"$stage_dir/requirements.txt"
  cat >"$stage_dir/.gcloudignore" <<EOF
# Written by deploy.sh: upload everything staged here except bytecode caches and the
# log-based metric configs (--create-log-metrics).
.gcloudignore
$STAGE_MARKER
log-metrics/
__pycache__/
*.pyc
EOF
}

# ---------------------------------------------------------------- commands

# One word, quoted for a POSIX shell the way Python's shlex.quote does it.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\"\'\"\'}"
  fi
}

# A command line: every word quoted, so it prints and runs exactly the same.
command_line() {
  local word line=""
  for word in "$@"; do
    line+="$(quote "$word") "
  done
  printf '%s' "${line% }"
}

# Queue one command of the deployment (deploy, and later ones such as log-based metrics).
plan() {
  PLAN+=("$(command_line "$@")")
}

# --set-env-vars with the collected pairs, in gcloud's ^DELIM^ form when not comma-separated.
env_flag() {
  local pair joined=""
  for pair in "${ENV_PAIRS[@]}"; do
    joined+=$pair$ENV_DELIMITER
  done
  joined=${joined%"$ENV_DELIMITER"}
  [[ $ENV_DELIMITER == , ]] || joined=^$ENV_DELIMITER^$joined
  echo "--set-env-vars=$joined"
}

plan_deploy() {
  local -a settings=(--memory="$memory" --cpu="$cpu" --concurrency="$concurrency"
    --min-instances="$min_instances" --max-instances="$max_instances" --timeout="$timeout")
  [[ -z $service_account ]] || settings+=(--service-account="$service_account")
  settings+=("$(env_flag)")
  local access=--no-allow-unauthenticated
  ((!allow_unauthenticated)) || access=--allow-unauthenticated

  if [[ $platform == run ]]; then
    plan "$GCLOUD" run deploy "$name" --project="$project" --region="$region" \
      --source="$stage_dir" --function=predict --base-image="$RUNTIME" "${settings[@]}" "$access"
    URL_COMMAND=("$GCLOUD" run services describe "$name" --project="$project"
      --region="$region" --format='value(status.url)')
    return
  fi
  local -a deploy_function=("$GCLOUD" functions deploy "$name" --gen2 --runtime="$RUNTIME"
    --project="$project" --region="$region" --source="$stage_dir")
  if [[ $trigger == topic ]]; then
    plan "${deploy_function[@]}" --entry-point=predict_event --trigger-topic="$topic" --retry \
      "${settings[@]}"
  else
    plan "${deploy_function[@]}" --entry-point=predict --trigger-http "${settings[@]}" "$access"
  fi
  URL_COMMAND=("$GCLOUD" functions describe "$name" --v2 --project="$project"
    --region="$region" --format='value(serviceConfig.uri)')
}

# ---------------------------------------------------------------- log-based metrics

# One metric config per file in the stage folder's log-metrics/ (never uploaded); each is
# created, or updated when it already exists. The filters select this service's request
# lines on stdout (Cloud Run's own request log also has httpRequest: it is left out).
plan_log_metrics() {
  local dir=$stage_dir/log-metrics metric
  local lines="resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"$name\""
  lines+=" AND logName=\"projects/$project/logs/run.googleapis.com%2Fstdout\""
  mkdir -p "$dir"
  cat >"$dir/request-latency.yaml" <<EOF
description: 'irisserve request latency in seconds (httpRequest.latency), labelled by cold start'
filter: '$lines AND httpRequest.status>0'
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
  exponentialBuckets: {numFiniteBuckets: 32, growthFactor: 1.5, scale: 0.001}
EOF
  cat >"$dir/errors.yaml" <<EOF
description: 'irisserve error responses (4xx and 5xx) by error code and status'
filter: '$lines AND httpRequest.status>=400'
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
EOF
  cat >"$dir/out-of-range-rows.yaml" <<EOF
description: 'irisserve rows per request with a feature outside its training range (drift)'
filter: '$lines AND jsonPayload.irisserve.out_of_range_rows>0'
valueExtractor: 'EXTRACT(jsonPayload.irisserve.out_of_range_rows)'
metricDescriptor:
  metricKind: DELTA
  valueType: DISTRIBUTION
  unit: '1'
bucketOptions:
  exponentialBuckets: {numFiniteBuckets: 16, growthFactor: 2, scale: 1}
EOF
  for metric in request-latency errors out-of-range-rows; do
    local -a args=("$name-$metric" --project="$project" --config-from-file="$dir/$metric.yaml")
    PLAN+=("$(command_line "$GCLOUD" logging metrics create "${args[@]}") || $(command_line \
      "$GCLOUD" logging metrics update "${args[@]}")")
  done
}

preflight() {
  command -v "$GCLOUD" >/dev/null 2>&1 ||
    fail "the Google Cloud CLI ($GCLOUD) is not installed: see https://cloud.google.com/sdk/docs/install"
  local account
  account=$("$GCLOUD" auth list --filter=status:ACTIVE --format='value(account)') ||
    fail "'$GCLOUD auth list' failed"
  [[ -n $account ]] || fail "gcloud has no active account: run 'gcloud auth login' first"
  echo "deploying as $account" >&2
}

main() {
  parse_args "$@"
  validate_args
  ((dry_run)) || preflight
  stage
  plan_deploy
  ((!create_log_metrics)) || plan_log_metrics
  if ((dry_run)); then
    echo "# staged: $stage_dir"
    printf '%s\n' "${PLAN[@]}" "$(command_line "${URL_COMMAND[@]}")"
    return
  fi
  echo "staged: $stage_dir" >&2
  local command
  for command in "${PLAN[@]}"; do
    echo "+ $command" >&2
    eval "$command"
  done
  local url
  url=$("${URL_COMMAND[@]}")
  echo "service URL: $url"
}

main "$@"
