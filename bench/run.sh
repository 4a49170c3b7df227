#!/usr/bin/env bash
# One command for the whole benchmark suite (issue 7): sagepipe against kedro, prefect,
# dagster, metaflow, the real SageMaker SDK and plain Python, on the same machine in one run.
#   bench/run.sh                      # everything: 1 warm-up + 5 counted runs per case (W4: 7)
#   bench/run.sh --quick              # 1 run per case, no warm-up: checks the harness works
#   bench/run.sh --groups W1,W5 --peers sagepipe,kedro --reps 7   # any harness option
# Sets up the peers' virtualenvs first if missing (peers/setup.sh, from PyPI). sagepipe runs
# under $SAGEPIPE_PYTHON, else the `python3` on PATH, which must have sagepipe installed
# (pip install -e .). Prints the ratio table and the per-workload tables; writes
# peers/results/<stamp>/{summary.md,summary.json,raw.jsonl,runs.log}.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
py="${SAGEPIPE_PYTHON:-python3}"
if ! "$py" -c "import sagepipe" 2>/dev/null; then
  echo "bench/run.sh: '$py' cannot import sagepipe; run 'pip install -e .' in the repo first" >&2
  exit 2
fi
# Byte-compile sagepipe as `pip install` does for the peers: an editable install under
# PYTHONDONTWRITEBYTECODE=1 would otherwise compile ~50 modules from source in every process.
"$py" -m compileall -q "$("$py" -c 'import os, sagepipe; print(os.path.dirname(sagepipe.__file__))')" >/dev/null
"$here/peers/setup.sh"
unset PREFECT_API_URL PREFECT_API_KEY
exec "$py" "$here/peers/harness/bench.py" "$@"
