#!/usr/bin/env bash
# Makes sure the Debian packages the course needs are installed; each argument is
# COMMAND:PACKAGE (the package is installed with apt-get when COMMAND is missing).
#   chromium:chromium     headless Chromium for the peer-review PDFs and browser tests
#   bwrap:bubblewrap      the grading sandbox (course_lib.instructor.sandbox)
#   pg_ctlcluster:postgresql  PostgreSQL gradebooks (tests start a throwaway server)
#   pdftoppm:poppler-utils    PDF page screenshots the tests save (test-artifacts/)
# Uses Debian's packages only; never downloads builds of its own.
set -euo pipefail
missing=()
for pair in "$@"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "Missing Debian packages: ${missing[*]}. Install them first: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]} ..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
