#!/usr/bin/env bash
# Stage a pinned, self-contained source folder and deploy irisserve with gcloud.
# The logic is the Python package deploy/ (python -m deploy); run `./deploy.sh --help`.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=python3
[[ -x $repo/.venv/bin/python ]] && python=$repo/.venv/bin/python
PYTHONPATH="$repo:$repo/src${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m deploy "$@"
