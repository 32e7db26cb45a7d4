#!/usr/bin/env bash
# Fuzzes the scenario parser/validator and whole short runs with libFuzzer (cargo-fuzz),
# SECONDS each (default 60). Installs cargo-fuzz if needed. Only the stable toolchain is
# available here, so the nightly-only flags cargo-fuzz passes are allowed with
# RUSTC_BOOTSTRAP=1, and no sanitizer is used (Rust's safety checks and debug assertions
# stay on). Crashes are copied to fuzz/regressions/, which the tests replay forever.
#
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse run)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
cd "$root/fuzz"
status=0
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${secs}s"
  mkdir -p "corpus/$t"
  if ! cargo fuzz run --sanitizer none --debug-assertions "$t" "corpus/$t" -- -max_total_time="$secs" -max_len=65536 -timeout=20; then
    status=1
  fi
  for crash in artifacts/"$t"/*; do
    [ -f "$crash" ] || continue
    cp "$crash" "regressions/$t-$(basename "$crash")"
    echo "crash kept: fuzz/regressions/$t-$(basename "$crash")"
  done
done
exit $status
