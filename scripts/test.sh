#!/usr/bin/env bash
# The whole test suite, from a fresh clone: makes .venv, installs the project with its test and
# example extras, installs Debian's Chromium when missing, then lints, type-checks and tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-venv.sh test,examples
bash scripts/install-chromium.sh

echo "== ruff"
.venv/bin/ruff check pytest_paysim tests examples benchmarks
.venv/bin/ruff format --check pytest_paysim tests examples benchmarks
echo "== mypy"
.venv/bin/mypy
echo "== example shops (main job), serial and under xdist"
.venv/bin/pytest --paysim examples/ -q -p no:cacheprovider
.venv/bin/pytest --paysim -n 2 examples/ -q -p no:cacheprovider
echo "== test suite"
.venv/bin/pytest -n 2 -p no:cacheprovider
