#!/usr/bin/env bash
# Install Debian or Ubuntu packages that the set-up needs and the machine lacks, through apt,
# as root or through sudo. The other scripts call it for what they cannot do without:
#
#   bash scripts/install-system.sh "WHAT THEY ARE FOR" PACKAGE...
set -euo pipefail

why="$1"
shift
if ! command -v apt-get >/dev/null 2>&1; then
    echo "Missing $*, needed for $why, and no apt-get to install them." >&2
    echo "Install them with your system's package manager and run again${MEMRNN_APT_HINT:+ ($MEMRNN_APT_HINT)}." >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    sudo="sudo"
fi
echo "==> installing $* for $why (apt)"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
