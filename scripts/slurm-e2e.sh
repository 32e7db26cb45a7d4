#!/usr/bin/env bash
# End-to-end proof that a study runs on a real scheduler: installs Debian's Slurm (and
# munge), starts a one-node cluster on this machine, submits a study as a job array of 3
# shards with `sbatch --array`, waits, merges the shards and checks the merged
# summary.json is byte-identical to a single run; then the same for a compare of two
# variants. Stops the daemons it started.
#
# usage: scripts/slurm-e2e.sh [REPLICATIONS]     (needs root for apt-get and the daemons)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-60}
work=$(mktemp -d /tmp/dialtone-slurm.XXXXXX)
conf="$work/slurm.conf"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
}
trap cleanup EXIT

echo "== installing Slurm and munge (Debian packages)"
if ! command -v slurmctld >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
fi

echo "== building dialtone"
(cd "$root" && cargo build --quiet --release -p dialtone-cli)
bin="$root/target/release/dialtone"

echo "== starting munge"
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge 2>/dev/null || true
chmod 0400 /etc/munge/munge.key
chmod 0700 /etc/munge
if command -v runuser >/dev/null && id munge >/dev/null 2>&1; then
  runuser -u munge -- munged --pid-file=/run/munge/dialtone-munged.pid --force
else
  munged --pid-file=/run/munge/dialtone-munged.pid --force
fi
for _ in $(seq 50); do [ -s /run/munge/dialtone-munged.pid ] && break; sleep 0.1; done
pids+=("$(cat /run/munge/dialtone-munged.pid)")

echo "== starting a one-node Slurm cluster"
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/state" "$work/spool" "$work/log"
cat > "$conf" <<CONF
ClusterName=dialtone
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$conf"
slurmctld -D -f "$conf" > "$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$conf" > "$work/log/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -qE "idle|mix" && break
  sleep 1
done
sinfo -h -o "%P %T %D" || { echo "Slurm did not start"; cat "$work"/log/*; exit 1; }

echo "== submitting a job array of 3 shards ($n replications)"
job=$(sbatch --parsable --array=1-3 --output="$work/shard-%a.log" --chdir="$root" \
  --wrap "$bin study scenarios/site-failure-dac.json --replications $n --threads 1 --quiet --shard \${SLURM_ARRAY_TASK_ID}/3 --out $work/shard-\${SLURM_ARRAY_TASK_ID}")
echo "job $job"
for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 1
done
for i in 1 2 3; do
  [ -f "$work/shard-$i/summary.json" ] || { echo "shard $i did not finish"; cat "$work/shard-$i.log" "$work"/log/*; exit 1; }
done

echo "== merging and comparing with a single run"
"$bin" merge "$work"/shard-1 "$work"/shard-2 "$work"/shard-3 --out "$work/merged" > /dev/null
(cd "$root" && "$bin" study scenarios/site-failure-dac.json --replications "$n" --quiet --out "$work/single" > /dev/null)
if cmp -s "$work/merged/summary.json" "$work/single/summary.json" && cmp -s "$work/merged/replications.csv" "$work/single/replications.csv"; then
  echo "OK: the merged Slurm job array equals a single run byte for byte"
else
  echo "FAIL: merged and single outputs differ (kept in $work)"
  diff "$work/merged/summary.json" "$work/single/summary.json" | head -20
  exit 1
fi

echo "== a compare of two variants as a job array of 3 shards ($n replications per arm)"
cmp_args="compare scenarios/site-failure-dac.json --variant ttl-1h:topology.dns.ttl=1h --replications $n --threads 1 --quiet"
job=$(sbatch --parsable --array=1-3 --output="$work/cmp-%a.log" --chdir="$root" \
  --wrap "$bin $cmp_args --shard \${SLURM_ARRAY_TASK_ID}/3 --out $work/cmp-\${SLURM_ARRAY_TASK_ID} --resume")
echo "job $job"
for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 1
done
for i in 1 2 3; do
  [ -f "$work/cmp-$i/summary.json" ] || { echo "compare shard $i did not finish"; cat "$work/cmp-$i.log" "$work"/log/*; exit 1; }
done
"$bin" merge "$work"/cmp-1 "$work"/cmp-2 "$work"/cmp-3 --out "$work/cmp-merged" > /dev/null
# shellcheck disable=SC2086
(cd "$root" && "$bin" $cmp_args --out "$work/cmp-single" > /dev/null)
rm -f "$work/cmp-single/journal.jsonl"
if diff -r "$work/cmp-merged" "$work/cmp-single" > /dev/null; then
  echo "OK: the merged compare job array equals a single compare byte for byte"
  rm -rf "$work"
else
  echo "FAIL: merged and single compare folders differ (kept in $work)"
  diff -r "$work/cmp-merged" "$work/cmp-single" | head -20
  exit 1
fi
