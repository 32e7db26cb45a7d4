#!/usr/bin/env bash
# Renders a dialtone report.html to PNG in headless Chromium (Debian's package, installed
# here if missing), so anyone can look at a report without a browser.
#
# usage: scripts/screenshot-report.sh REPORT.html OUT.png [WIDTH] [HEIGHT]
set -euo pipefail
in=${1:?usage: screenshot-report.sh REPORT.html OUT.png [WIDTH] [HEIGHT]}
out=${2:?usage: screenshot-report.sh REPORT.html OUT.png [WIDTH] [HEIGHT]}
w=${3:-1000}
h=${4:-1400}
if ! command -v chromium >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
abs=$(cd "$(dirname "$in")" && pwd)/$(basename "$in")
outabs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size="$w,$h" \
  --screenshot="$outabs" "file://$abs" >/dev/null 2>&1
echo "$out"
