#!/usr/bin/env bash
# Make .venv (if missing) and install the project into it with the given extras,
# e.g. `bash scripts/setup-venv.sh test,examples`. Used by main-job.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[${1:?name the extras, e.g. test,examples}]"
