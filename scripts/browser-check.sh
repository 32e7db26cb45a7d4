#!/usr/bin/env bash
# Renders each kind of report (run, study, compare, sweep) of shipped scenarios in headless
# Chromium and fails if a screenshot is blank or the page's text lacks the key values of
# its summary.json (scripts/check-report-page.py). Installs Debian's chromium if missing
# (needs root); without root and without chromium it says so and skips.
#
# usage: scripts/browser-check.sh [OUT_DIR] [--docs]
#   OUT_DIR  where folders, screenshots and DOM dumps go (default: a temporary folder)
#   --docs   also copy the four screenshots to docs/img/report-KIND.png
# CARGO overrides the cargo command (e.g. CARGO="flock /tmp/lock cargo").
set -euo pipefail
cd "$(dirname "$0")/.."
out=""
docs=false
for a in "$@"; do
  case "$a" in
    --docs) docs=true ;;
    *) out=$a ;;
  esac
done
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "browser check skipped: chromium is not installed and installing it needs root"
    exit 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
out=${out:-$(mktemp -d)}
mkdir -p "$out"
${CARGO:-cargo} build --release --locked -q -p dialtone-cli
bin=target/release/dialtone

rm -rf "$out/run" "$out/study" "$out/compare" "$out/sweep"
$bin run scenarios/site-failure-dac.json --out "$out/run" --report >/dev/null
$bin study scenarios/site-failure-dac.json --replications 40 --quiet \
  --out "$out/study" --report >/dev/null
$bin compare scenarios/db-corruption-dial-tone-same-server.json \
  --strategies restore-only,dial-tone-same-server,none --replications 20 --quiet \
  --out "$out/compare" --report >/dev/null
$bin sweep scenarios/site-failure-dac.json --set topology.dns.ttl=60s,5m,1h,4h \
  --set topology.dns.pinned_client_share=0.05,0.3 --replications 5 --quiet \
  --out "$out/sweep" --report >/dev/null

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
for kind in run study compare sweep; do
  page="$(cd "$out/$kind" && pwd)/report.html"
  bash scripts/screenshot-report.sh "$page" "$out/$kind.png" 1000 1400 >/dev/null
  chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --dump-dom "file://$page" >"$out/$kind.dom.html" 2>/dev/null
  python3 scripts/check-report-page.py "$out/$kind" "$out/$kind.png" "$out/$kind.dom.html"
  if $docs; then
    cp "$out/$kind.png" "docs/img/report-$kind.png"
  fi
done
echo "browser check passed: $out"
