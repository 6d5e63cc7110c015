#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for testing evsim's Slurm path end to end.
#
#   scripts/slurm-local.sh install        apt-get the Debian packages (slurmctld slurmd slurm-client munge)
#   scripts/slurm-local.sh start DIR      start munged, slurmctld and slurmd with all state under DIR;
#                                         prints `export SLURM_CONF=DIR/slurm.conf` (also in DIR/env)
#   scripts/slurm-local.sh stop DIR       stop exactly the daemons started for DIR (by their PID files)
#
# No systemd: the daemons are started by hand and fork; they are stopped by the PIDs they wrote.
# Facts behind the configuration: ../shared/notes/slurm-local.md (munge needs a private key folder
# and a world-executable socket folder; no cgroups, no accounting database, so per-task exit codes
# go to jobcomp/filetxt). Needs root (munged runs as the `munge` user).
set -euo pipefail

cmd=${1:-}
dir=${2:-}

die() { echo "slurm-local: $*" >&2; exit 2; }

case "$cmd" in
install)
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null; then
    exit 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
  ;;
start)
  [ -n "$dir" ] || die "usage: $0 start DIR"
  command -v slurmctld >/dev/null || die "slurmctld not installed (run: $0 install)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  mkdir -p "$dir/munge-key" "$dir/munge-run" "$dir/state" "$dir/spool" "$dir/log"
  chown munge:munge "$dir/munge-key" "$dir/munge-run"
  chmod 700 "$dir/munge-key"
  chmod 755 "$dir" "$dir/munge-run"
  # munged runs as the munge user: every folder above DIR must let it through (mktemp -d makes 700)
  runuser -u munge -- test -x "$dir/munge-run" || die "the munge user cannot reach $dir (a parent folder is not world-searchable, e.g. made by mktemp -d: chmod 755 it)"
  if [ ! -f "$dir/munge-key/munge.key" ]; then
    dd if=/dev/urandom of="$dir/munge-key/munge.key" bs=1024 count=1 status=none
    chown munge:munge "$dir/munge-key/munge.key"
    chmod 400 "$dir/munge-key/munge.key"
  fi
  sock="$dir/munge-run/munge.socket"
  # two free TCP ports from 6817 up, so that a second cluster (another DIR) on the machine does not
  # collide with the first on Slurm's default ports
  free_port() {
    local p=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    echo "$p"
  }
  ctld_port=$(free_port 6817)
  slurmd_port=$(free_port $((ctld_port + 1)))
  runuser -u munge -- munged --key-file="$dir/munge-key/munge.key" --socket="$sock" \
    --pid-file="$dir/munge-run/munged.pid" --seed-file="$dir/munge-key/munge.seed" \
    --log-file="$dir/munge-run/munged.log"
  cat >"$dir/slurm.conf" <<EOF
ClusterName=evsim-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MaxArraySize=100001
MaxJobCount=200000
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MessageTimeout=30
DefMemPerCPU=1024
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  echo "export SLURM_CONF=$dir/slurm.conf" >"$dir/env"
  slurmctld -f "$SLURM_CONF" -c
  slurmd -f "$SLURM_CONF"
  for _ in $(seq 1 60); do
    state=$(sinfo -h -N -o %T 2>/dev/null || true)
    case "$state" in idle*|mixed*|allocated*) echo "export SLURM_CONF=$SLURM_CONF"; exit 0 ;; esac
    sleep 0.5
  done
  die "cluster did not become idle within 30 s (state: ${state:-none}; logs in $dir/log)"
  ;;
stop)
  [ -n "$dir" ] || die "usage: $0 stop DIR"
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge-run/munged.pid"; do
    if [ -f "$pidfile" ]; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  done
  ;;
*)
  die "usage: $0 install | start DIR | stop DIR"
  ;;
esac
