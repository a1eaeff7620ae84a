#!/usr/bin/env bash
# Makes sure a headless Chromium is available for the peer-review PDFs (and browser tests).
# Uses Debian's package; never downloads a browser build of its own.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "Chromium is missing. Install Debian's package first: sudo apt-get install -y chromium" >&2
  exit 1
fi
echo "Installing Debian's chromium package (needed for peer-review PDFs)..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
