#!/usr/bin/env bash
# The core, HTTP and webhook tests on the oldest and newest supported Pythons (3.10 and 3.13),
# each in its own virtual environment, so the supported range is real.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
    local version=$1 candidate
    # pyenv's shims exist for every version but fail unless it is selected: try each one.
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python \
        "$(command -v "python$version" 2>/dev/null || true)"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" --version >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    echo "no Python $version found (install it with pyenv)" >&2
    return 1
}

for version in 3.10 3.13; do
    python=$(find_python "$version")
    venv=".venv-$version"
    echo "== core, HTTP and webhook tests on $("$python" --version)"
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -e ".[test]"
    "$venv/bin/python" -m pytest -p no:cacheprovider -q -n 2 \
        tests/core tests/http tests/webhooks tests/test_public_api.py
done
