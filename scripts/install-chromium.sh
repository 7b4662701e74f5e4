#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/browser), unless it is already there.
#
# Playwright's own browser download does not work offline; the tests drive /usr/bin/chromium.
# Idempotent: does nothing when /usr/bin/chromium exists. Needs root (or sudo) for apt-get.
# Exits non-zero when the install fails or leaves no working /usr/bin/chromium.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "chromium is already installed: $CHROMIUM"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "install-chromium.sh: run as root (or install sudo) to apt-get install chromium" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y chromium

if [ ! -x "$CHROMIUM" ]; then
    echo "install-chromium.sh: apt-get finished but $CHROMIUM is missing" >&2
    exit 1
fi
"$CHROMIUM" --version 2>/dev/null || true
echo "chromium installed: $CHROMIUM"
