#!/usr/bin/env bash
# Makes sure poppler's pdftoppm is available: the tests save screenshots of peer-review PDF
# pages with it (test-artifacts/). Uses Debian's package.
set -euo pipefail
if command -v pdftoppm >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "pdftoppm is missing. Install Debian's package first: sudo apt-get install -y poppler-utils" >&2
  exit 1
fi
echo "Installing Debian's poppler-utils package (pdftoppm, for PDF screenshots in the tests)..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
