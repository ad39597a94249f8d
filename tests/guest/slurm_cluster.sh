#!/bin/bash
# A one-node Slurm cluster (munged, slurmctld, slurmd) whose every file lives in one directory:
# configuration, state, spool, logs, pids, the munge key and socket. Nothing in /etc, /var or /run
# is read or written, and no service manager is needed. guest.sweep_slurm starts one, submits a
# `kioku sweep --slurm` to it and stops it.
#
#   slurm_cluster.sh start DIR   writes DIR/slurm.conf, starts the daemons, waits until the node
#                                is idle, and prints "export SLURM_CONF=DIR/slurm.conf"
#   slurm_cluster.sh stop DIR    cancels the jobs and stops the daemons (safe to run twice)
#
# Needs root (slurmd starts jobs as their user) and Debian's slurmctld, slurmd, slurm-client and
# munge (scripts/setup.sh installs them). The clients find the cluster by SLURM_CONF alone: the
# munge socket is named in slurm.conf. sacct does not work (no accounting database).
set -euo pipefail

die() { echo "slurm_cluster.sh: $*" >&2; exit 1; }

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then die "usage: $0 start|stop DIR"; fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
conf=$dir/slurm.conf
sock=$dir/munge/socket
ctld_port=${SLURMCTLD_PORT:-6817}
slurmd_port=${SLURMD_PORT:-6818}

# Running and not a zombie (this container's init reaps late).
alive() {
    local state
    state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "${state#Z}" = "$state" ]
}

# Ends pid $1 if its command line names DIR (a reused pid is left alone): waits $2 tenths of a
# second for it to go by itself, then SIGTERM, five seconds more, then SIGKILL.
end_process() {
    local pid=$1 wait=${2:-0}
    alive "$pid" && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/" || return 0
    while alive "$pid" && [ "$wait" -gt 0 ]; do sleep 0.1; wait=$((wait - 1)); done
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    wait=50
    while alive "$pid" && [ "$wait" -gt 0 ]; do sleep 0.1; wait=$((wait - 1)); done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
}

# Starts a daemon in the foreground of a session of its own, its output to DIR/log/NAME.out, and
# records its pid (the daemons' own forking would hide a start that fails).
launch() {
    local name=$1
    shift
    setsid "$@" < /dev/null >> "$dir/log/$name.out" 2>&1 &
    echo $! >> "$dir/run/pids"
}

stop() {
    local pids pid grace=0 jobs tries own_session session
    pids=$(cat "$dir/run/pids" 2>/dev/null || true) # munged, slurmctld, slurmd
    if [ -n "$pids" ] && [ -f "$conf" ] && SLURM_CONF=$conf timeout 5 scontrol ping 2>/dev/null | grep -q UP; then
        # Every job cancelled and gone first: a slurmd whose controller left while a job was
        # completing retries for seconds before it stops.
        jobs=$(SLURM_CONF=$conf squeue -h -o %A 2>/dev/null || true)
        if [ -n "$jobs" ]; then
            # shellcheck disable=SC2086 # one job id per word
            SLURM_CONF=$conf scancel $jobs 2>/dev/null || true
            tries=200
            while [ "$tries" -gt 0 ] && [ -n "$(SLURM_CONF=$conf squeue -h -o %A 2>/dev/null)" ]; do
                sleep 0.1
                tries=$((tries - 1))
            done
        fi
        SLURM_CONF=$conf timeout 10 scontrol shutdown > /dev/null 2>&1 && grace=100
    fi
    for pid in $(echo "$pids" | tail -n +2 | tac); do
        end_process "$pid" "$grace"
    done
    # A job step that outlived slurmd: slurmstepd keeps DIR/log/slurmd.log open; its job's
    # processes are in its session.
    own_session=$(ps -o sid= -p $$ | tr -d ' ')
    for pid in $(pgrep -x slurmstepd 2>/dev/null || true); do
        if find "/proc/$pid/fd" -maxdepth 1 -type l -lname "$dir/*" 2> /dev/null | grep -q .; then
            session=$(ps -o sid= -p "$pid" | tr -d ' ')
            kill -KILL "$pid" 2>/dev/null || true
            if [ -n "$session" ] && [ "$session" -gt 1 ] && [ "$session" != "$own_session" ]; then
                pkill -KILL -s "$session" 2>/dev/null || true
            fi
        fi
    done
    pid=$(echo "$pids" | head -n 1)
    if [ -n "$pid" ]; then end_process "$pid" 0; fi
    rm -f "$sock" "$sock.lock" "$dir/run/"*.pid "$dir/run/pids"
}

failed() {
    local log
    for log in "$dir"/log/*; do
        if [ -s "$log" ]; then
            echo "--- $log" >&2
            tail -n 12 "$log" >&2
        fi
    done
    stop
    die "the cluster did not start: $*"
}

start() {
    local tool port tries node state munged ctld slurmd
    for tool in munged mungekey slurmctld slurmd sbatch sinfo scontrol; do
        command -v "$tool" > /dev/null || die "$tool is not installed (scripts/setup.sh installs Slurm and munge)"
    done
    [ "$(id -u)" = 0 ] || die "slurmd needs root"
    [ -s "$dir/run/pids" ] && die "a cluster in $dir was not stopped"
    for port in "$ctld_port" "$slurmd_port"; do
        if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
            die "port $port is taken (another Slurm?); set SLURMCTLD_PORT and SLURMD_PORT"
        fi
    done
    # munged wants every directory above its socket searchable by all, and none writable by others.
    chmod 0755 "$dir"
    mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log" "$dir/run"
    chmod 0755 "$dir/munge"
    chmod 0700 "$dir/state" "$dir/spool"
    rm -rf "${dir:?}/state/"* "${dir:?}/spool/"* "${dir:?}/log/"*
    : > "$dir/run/pids"

    [ -s "$dir/munge/key" ] || mungekey --create --keyfile="$dir/munge/key"
    chmod 0600 "$dir/munge/key"
    # --force: a directory above DIR may be 0700; --origin: no lookup of the host's name.
    launch munged munged --foreground --force --origin=127.0.0.1 --socket="$sock" \
        --key-file="$dir/munge/key" --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/seed"
    munged=$(tail -n 1 "$dir/run/pids")
    tries=100
    until munge -n -S "$sock" 2> /dev/null | unmunge -S "$sock" > /dev/null 2>&1; do
        alive "$munged" || failed "munged ended"
        [ "$tries" -gt 0 ] || failed "munged does not answer"
        sleep 0.1
        tries=$((tries - 1))
    done

    # The node as slurmd sees it (declaring more memory than it finds drains the node).
    node=$(slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //')
    case $node in *CPUs=*RealMemory=*) ;; *) node="CPUs=$(nproc) RealMemory=1" ;; esac
    cat > "$conf" << CONF
ClusterName=kioku-test
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
# Array tasks are started at once rather than after the default 3 s pause.
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MailProg=/bin/true
# sbatch --wait polls every 2 s only while MinJobAge is small; below about 3 s it may miss the end.
MinJobAge=5
KillWait=5
InactiveLimit=0
NodeName=$(hostname -s) NodeAddr=127.0.0.1 $node State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    : > "$dir/plugstack.conf"

    launch slurmctld slurmctld -D -f "$conf"
    ctld=$(tail -n 1 "$dir/run/pids")
    launch slurmd slurmd -D -f "$conf"
    slurmd=$(tail -n 1 "$dir/run/pids")
    tries=$((${SLURM_START_TIMEOUT:-30} * 10))
    while :; do
        state=$(SLURM_CONF=$conf sinfo -h -N -o %t 2> /dev/null | head -n 1 || true)
        case $state in idle | mix | alloc) break ;; esac
        alive "$ctld" || failed "slurmctld ended"
        alive "$slurmd" || failed "slurmd ended"
        [ "$tries" -gt 0 ] || failed "the node is not ready (state '$state')"
        sleep 0.1
        tries=$((tries - 1))
    done
    echo "export SLURM_CONF=$conf"
}

case $cmd in
    start) start ;;
    stop) stop ;;
    *) die "unknown command $cmd" ;;
esac
