#!/usr/bin/env bash
# The main job: the example shops' test suites under `pytest --paysim`, from a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-venv.sh examples
.venv/bin/pytest --paysim examples/ -p no:cacheprovider "$@"
