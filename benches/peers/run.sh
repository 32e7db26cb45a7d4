#!/usr/bin/env bash
# Hold-model comparison in one run on this machine (nanosecond keys): dialtone's engine,
# its queue alone, a bare BinaryHeap, the radix-heap crate, and SimPy, at N = 1,000,
# 100,000 and 1,000,000. Prints events per second and the ratios the engine issue sets
# targets for.
#
# usage: benches/peers/run.sh [RUST_EVENTS] [SIMPY_EVENTS] [REPEATS]
# SimPy is installed into benches/peers/.venv (git-ignored) if it is not importable.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rust_events=${1:-5000000}
simpy_events=${2:-300000}
repeats=${3:-5}

py=python3
if ! "$py" -c 'import simpy' 2>/dev/null; then
  if [ ! -x "$here/.venv/bin/python" ]; then
    echo "# installing SimPy into $here/.venv" >&2
    python3 -m venv "$here/.venv"
    "$here/.venv/bin/pip" install --quiet 'simpy>=4,<5'
  fi
  py="$here/.venv/bin/python"
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "# machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
(cd "$root" && cargo build --quiet --release -p dialtone-benches --bin hold)
"$root/target/release/hold" "$rust_events" "$repeats" | tee -a "$out"
"$py" "$here/simpy_hold.py" "$simpy_events" "$repeats" | tee -a "$out"

echo
awk -F, '
  /^hold,/ { eps[$2 "," $3] = $4 }
  END {
    printf "%-8s %12s %12s %12s %12s %12s   %9s %9s %9s\n", "N", "engine", "queue only", "bare heap", "radix crate", "SimPy", "eng/heap", "eng/crate", "eng/SimPy"
    for (i = 1; i <= 3; i++) {
      n = (i == 1) ? 1000 : (i == 2) ? 100000 : 1000000
      e = eps["engine," n]; q = eps["engine_queue_only," n]; h = eps["bare_binary_heap," n]
      c = eps["radix_heap_crate," n]; s = eps["simpy," n]
      printf "%-8d %12.0f %12.0f %12.0f %12.0f %12.0f   %9.2f %9.2f %9.1f\n", n, e, q, h, c, s, e / h, e / c, e / s
    }
  }' "$out"
