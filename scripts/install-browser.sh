#!/usr/bin/env bash
# Chromium for the browser tests (tests/test_browser.py), from the system's
# package manager. Playwright, which drives it, comes with the `test` extra and
# is pointed at this browser: it never downloads one of its own.
# Idempotent: with the browser in place it does nothing.
set -euo pipefail

browser="${MEMRNN_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "No Chromium at $browser, and no apt-get to install it. Install Chromium with your" >&2
    echo "system's package manager and set MEMRNN_CHROMIUM to its executable." >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    sudo="sudo"
fi
echo "==> installing Chromium for the browser tests (apt)"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
if [ ! -x "$browser" ]; then
    echo "apt installed chromium, but $browser is not there; set MEMRNN_CHROMIUM." >&2
    exit 1
fi
