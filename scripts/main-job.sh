#!/usr/bin/env bash
# The main job: the example shop's test suite under `pytest --paysim`, from a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[examples]"
.venv/bin/pytest --paysim examples/ -p no:cacheprovider "$@"
