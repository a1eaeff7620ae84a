#!/usr/bin/env bash
# Makes sure the Debian packages the course needs are installed, with apt-get (as root).
# Never downloads builds of its own. One `need` line per package: a test that it is there,
# the package, and what needs it.
set -euo pipefail
missing=()
need() { if ! eval "$1" >/dev/null 2>&1; then missing+=("$2"); fi; }

need "command -v chromium" chromium                                  # peer-review PDFs, browser tests
need "compgen -G '/usr/lib/postgresql/*/bin/initdb'" postgresql      # PostgreSQL gradebooks (tests start one)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "Missing Debian packages: ${missing[*]}. Install them first: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]} ..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
